//! Team slugs: the file name of a team's feed (`teams/<slug>.xml`) and the anchor of its section
//! on the page (`#team-<slug>`), made from the team's name alone.
//!
//! A slug is lower-case ASCII letters, digits and `-`, so it is safe in a file name on every
//! system and in a URL without escaping. Latin letters and digits are kept (lower-cased, accents
//! dropped where the letter has a plain form); each Hangul syllable is written in the letters of
//! the Revised Romanization of Korean, syllable by syllable (without the rule's sound changes
//! across syllables: `백엔드` → `baekendeu`, `데이터` → `deiteo`), so a Korean team's slug is
//! still readable; every other run of characters becomes one `-`. A name that leaves nothing
//! (only emoji, say) is `team-<hash>`. When two teams of the roster come to the same slug, each
//! of them gets `-<hash of its name>` appended, so no team ever takes another's file. The slug
//! depends only on the name (and, for such a clash, on the other name): renaming a team renames
//! its feed.

use crate::config::Config;
use crate::ids::short_hash;

/// Six hex digits of the name's stable hash: what tells clashing slugs apart.
fn name_tag(name: &str) -> String {
    short_hash(name).chars().take(6).collect()
}

/// Initial consonants (choseong) in Revised Romanization, in Unicode order.
const INITIALS: [&str; 19] = [
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p",
    "h",
];
/// Vowels (jungseong), in Unicode order.
const VOWELS: [&str; 21] = [
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we",
    "wi", "yu", "eu", "ui", "i",
];
/// Final consonants (jongseong) as pronounced at the end of a syllable; index 0 is none.
const FINALS: [&str; 28] = [
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p",
    "t", "t", "ng", "t", "t", "k", "t", "p", "t",
];

/// The romanised letters of a precomposed Hangul syllable, if `c` is one.
fn hangul(c: char) -> Option<String> {
    let index = (c as u32).checked_sub(0xAC00).filter(|i| *i < 11_172)? as usize;
    let (initial, rest) = (index / 588, index % 588);
    let (vowel, last) = (rest / 28, rest % 28);
    Some(format!(
        "{}{}{}",
        INITIALS[initial], VOWELS[vowel], FINALS[last]
    ))
}

/// A Latin letter with an accent as its plain letter (the common ones), else the letter itself.
fn plain_latin(c: char) -> Option<char> {
    if c.is_ascii_alphanumeric() {
        return Some(c.to_ascii_lowercase());
    }
    let plain = match c.to_lowercase().next()? {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        _ => return None,
    };
    Some(plain)
}

/// The slug of one team name, before clashes with other teams are settled.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in name.trim().chars() {
        let piece = hangul(c).or_else(|| plain_latin(c).map(String::from));
        match piece {
            Some(p) => {
                if gap && !out.is_empty() {
                    out.push('-');
                }
                gap = false;
                out.push_str(&p);
            }
            None => gap = true,
        }
    }
    // Long names stay usable as file names.
    if out.len() > 60 {
        out.truncate(60);
        out = out.trim_end_matches('-').to_string();
    }
    if out.is_empty() {
        format!("team-{}", name_tag(name))
    } else {
        out
    }
}

/// Every team of the roster with its slug, in roster order (first member of each team); teams
/// whose slugs clash each get their name's hash appended.
pub fn team_slugs(config: &Config) -> Vec<(String, String)> {
    let mut teams: Vec<String> = Vec::new();
    for m in &config.members {
        if !teams.contains(&m.team) {
            teams.push(m.team.clone());
        }
    }
    let plain: Vec<String> = teams.iter().map(|t| slug(t)).collect();
    teams
        .iter()
        .zip(&plain)
        .map(|(team, s)| {
            let clashes = plain.iter().filter(|other| *other == s).count() > 1;
            let s = if clashes {
                format!("{s}-{}", name_tag(team))
            } else {
                s.clone()
            };
            (team.clone(), s)
        })
        .collect()
}

/// The public address of a team's feed: `teams/<slug>.xml` beside the merged feed.
pub fn team_feed_url(config: &Config, slug: &str) -> String {
    config
        .output
        .feed_url
        .join(&format!("teams/{slug}.xml"))
        .map_or_else(|_| config.output.feed_url.to_string(), |u| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_and_latin_team_names_make_readable_safe_slugs() {
        for (name, want) in [
            ("데이터", "deiteo"),
            ("백엔드", "baekendeu"),
            ("프론트엔드", "peuronteuendeu"),
            ("인프라", "inpeura"),
            ("AI/ML 팀", "ai-ml-tim"),
            ("  Café Data  ", "cafe-data"),
            ("../../etc/passwd", "etc-passwd"),
            ("<script>alert(1)</script>", "script-alert-1-script"),
            ("똠방각하", "ttombanggakha"),
        ] {
            let s = slug(name);
            assert_eq!(s, want, "{name}");
            assert!(s
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
        let emoji = slug("🚀🚀");
        assert!(emoji.starts_with("team-") && emoji.len() > 5, "{emoji}");
        assert_eq!(slug(""), format!("team-{}", name_tag("")));
        assert!(slug(&"가".repeat(100)).len() <= 60);
    }
}
