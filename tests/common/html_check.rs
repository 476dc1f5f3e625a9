//! Whether HTML could still run script: the check behind every sanitisation test.

/// Every way HTML in `html` could still run script, in words; empty when it is inert.
pub fn executable_forms(html: &str) -> Vec<String> {
    forms(html, false)
}

/// Like [`executable_forms`] for a whole page of ours: the template's own `<style>`, `<meta>`,
/// `<link>` and plain inline styles are allowed; anything that could run is not.
pub fn injected_forms(html: &str) -> Vec<String> {
    forms(html, true)
}

fn dangerous_style(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    [
        "url(",
        "expression",
        "behavior",
        "binding",
        "javascript",
        "@import",
    ]
    .iter()
    .any(|d| v.contains(d))
}

fn forms(html: &str, page: bool) -> Vec<String> {
    let doc = if page {
        scraper::Html::parse_document(html)
    } else {
        scraper::Html::parse_fragment(html)
    };
    let mut found = Vec::new();
    let active = [
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
        "link", "meta", "form", "svg", "math", "portal", "template", "layer", "bgsound", "isindex",
        "keygen",
    ];
    for node in doc.tree.nodes() {
        let Some(el) = node.value().as_element() else {
            continue;
        };
        let name = el.name();
        let template_head = page && matches!(name, "style" | "meta" | "link");
        if active.contains(&name) && !template_head {
            found.push(format!("<{name}> element"));
        }
        for (attr, value) in el.attrs() {
            let attr = attr.to_ascii_lowercase();
            if attr.starts_with("on") {
                found.push(format!("{attr}= handler on <{name}>"));
            }
            let benign_style = attr == "style" && page && !dangerous_style(value);
            if (attr == "style" && !benign_style)
                || attr == "formaction"
                || attr == "srcdoc"
                || attr == "background"
                || attr == "dynsrc"
                || attr == "lowsrc"
            {
                found.push(format!("{attr}= on <{name}>"));
            }
            let v: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            for scheme in ["javascript:", "vbscript:", "data:"] {
                if v.starts_with(scheme) {
                    found.push(format!("{attr}=\"{scheme}…\" on <{name}>"));
                }
            }
        }
    }
    found
}
