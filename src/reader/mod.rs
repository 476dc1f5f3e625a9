//! The post-page reader (to come): a post's own page, read when its feed gives no full text.
//!
//! This room will own reading pages, as the README's *Reading pages* will describe: for a
//! non-history post whose feed carried only a summary, the post's page is fetched once through
//! the fetch stage (the same guard, caps, timeouts and body cap, at most `[reader] max_pages` a
//! run) and the article's text is extracted — platform rules first (Tistory, Velog, Naver's
//! frame and SmartEditor, Brunch, Medium, WordPress, the static generators), a general article
//! extractor after — and measured by the length rule. It will also read a page's title and date
//! for posts recorded by hand, and a sitemap for a blog without a feed. A page that cannot be
//! read leaves the length unknown with its reason; it never fails the feed.
//!
//! It will sit between the store and the judge: the fetch run hands it the posts that need a
//! page (`pipeline/`, a file of its own), and it writes back a length and where it came from.
//! It may import the fetch stage, `normalise` (the length rule) and `time`; nothing imports it
//! but the pipeline.
