//! Whether HTML could still run script: the check behind every sanitisation test.

/// Every way HTML in `html` could still run script, in words; empty when it is inert.
pub fn executable_forms(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_fragment(html);
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
        if active.contains(&name) {
            found.push(format!("<{name}> element"));
        }
        for (attr, value) in el.attrs() {
            let attr = attr.to_ascii_lowercase();
            if attr.starts_with("on") {
                found.push(format!("{attr}= handler on <{name}>"));
            }
            if attr == "style"
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
