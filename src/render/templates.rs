//! The template engine of the page and the digest (minijinja).
//!
//! The built-in templates live in `templates/` and are compiled into the binary; a folder named by
//! `[output] templates` may hold files of the same names (`digest.html`, `digest.txt`,
//! `digest.md`, `index.html`, `member.html`, `cohort.html`, and `head.html`, the meta tags and
//! stylesheet the three pages include) that replace them without a rebuild. Escaping is automatic and
//! chosen by the template's extension: `.html` escapes `& < > " '`, `.md` escapes what Markdown,
//! Slack and Notion would read as markup, `.txt` is plain text. Only values the code marks safe
//! pass unescaped, so a post title can never become markup.

use std::path::{Path, PathBuf};

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, Output, State};

use super::RenderError;

/// The built-in templates: (name, source).
const BUILTIN: &[(&str, &str)] = &[
    ("digest.html", include_str!("../../templates/digest.html")),
    ("digest.txt", include_str!("../../templates/digest.txt")),
    ("digest.md", include_str!("../../templates/digest.md")),
    ("index.html", include_str!("../../templates/index.html")),
    ("member.html", include_str!("../../templates/member.html")),
    ("cohort.html", include_str!("../../templates/cohort.html")),
    ("head.html", include_str!("../../templates/head.html")),
];

/// The loaded templates, built-in or overridden.
pub struct Templates {
    env: Environment<'static>,
    /// Where each overridden template came from (for error messages).
    overridden: Vec<(String, PathBuf)>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("overridden", &self.overridden)
            .finish()
    }
}

impl Templates {
    /// The built-in templates, with any file of the same name in `dir` taking their place.
    pub fn load(dir: Option<&Path>) -> Result<Templates, RenderError> {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| RenderError::Template {
                name: "(syntax)".to_string(),
                origin: "built-in".to_string(),
                message: e.to_string(),
            })?;
        env.set_syntax(syntax);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else if name.ends_with(".md") {
                AutoEscape::Custom("markdown".into())
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(format_value);
        let mut overridden = Vec::new();
        for (name, source) in BUILTIN {
            let custom = dir.map(|d| d.join(name)).filter(|p| p.is_file());
            let (source, origin) = match custom {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(&path).map_err(|e| RenderError::Template {
                            name: (*name).to_string(),
                            origin: path.display().to_string(),
                            message: e.to_string(),
                        })?;
                    overridden.push(((*name).to_string(), path.clone()));
                    (text, path.display().to_string())
                }
                None => ((*source).to_string(), "built-in".to_string()),
            };
            env.add_template_owned(*name, source)
                .map_err(|e| RenderError::Template {
                    name: (*name).to_string(),
                    origin,
                    message: e.to_string(),
                })?;
        }
        Ok(Templates { env, overridden })
    }

    /// Renders template `name` as the text of a file: what [`Templates::render`] gives, ending
    /// in a newline.
    pub fn render_text(
        &self,
        name: &str,
        context: &impl serde::Serialize,
    ) -> Result<String, RenderError> {
        let mut out = self.render(name, context)?;
        if !out.ends_with('\n') {
            out.push('\n');
        }
        Ok(out)
    }

    /// Renders template `name` with `context`.
    pub fn render(
        &self,
        name: &str,
        context: &impl serde::Serialize,
    ) -> Result<String, RenderError> {
        let origin = self
            .overridden
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.display().to_string())
            .unwrap_or_else(|| "built-in".to_string());
        let fail = |e: Error| RenderError::Template {
            name: name.to_string(),
            origin: origin.clone(),
            message: format!("{e:#}"),
        };
        let template = self.env.get_template(name).map_err(fail)?;
        template
            .render(Value::from(minijinja::value::Serde(context)))
            .map_err(fail)
    }
}

/// Writes a value with the escaping its template's extension asks for; `none` prints nothing.
fn format_value(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if value.is_none() || value.is_undefined() {
        return Ok(());
    }
    let text = value.to_string();
    let escaped = if value.is_safe() {
        text
    } else {
        match state.auto_escape() {
            AutoEscape::Html => escape_html(&text),
            AutoEscape::Custom(name) if name == "markdown" => escape_markdown(&text),
            _ => text,
        }
    };
    out.write_str(&escaped).map_err(Error::from)
}

/// Escapes text for HTML content and quoted attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for Markdown (CommonMark, Slack, Notion): `& < >` become entities (Slack reads
/// them so, CommonMark decodes them), and the characters that open emphasis, links, code or
/// table cells get a backslash. Parentheses stay: with `[` and `]` escaped they cannot form a
/// link, and the text stays readable where backslashes show (Slack).
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_extension() {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else if name.ends_with(".md") {
                AutoEscape::Custom("markdown".into())
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(format_value);
        env.add_template("a.html", "<p title=\"{{ t }}\">{{ t }}</p>")
            .unwrap();
        env.add_template("a.md", "[{{ t }}]({{ u }})").unwrap();
        env.add_template("a.txt", "{{ t }}{{ n }}").unwrap();
        let ctx = minijinja::context! { t => "<script>\"x\" & 'y'</script>", u => "https://e.x/a_(b)", n => Value::from(()) };
        let html = env.get_template("a.html").unwrap().render(&ctx).unwrap();
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;"),
            "{html}"
        );
        let md = env.get_template("a.md").unwrap().render(&ctx).unwrap();
        assert_eq!(
            md,
            r#"[&lt;script&gt;"x" &amp; 'y'&lt;/script&gt;](https://e.x/a\_(b))"#
        );
        let txt = env.get_template("a.txt").unwrap().render(&ctx).unwrap();
        assert_eq!(txt, "<script>\"x\" & 'y'</script>");
    }
}
