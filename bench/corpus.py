"""A generator of realistic news articles with embeds, shared by the benchmarks.

Each article is ~150 KB: head with inline CSS and JS, a long nav, English and
Hindi paragraphs, 0-5 embeds of mixed forms (widget blockquote + widgets.js,
amp-twitter, rendered iframe, WordPress block), and decoys that are not embeds
(commented-out embeds, theme JS naming the class, plain status links, timelines).
"""

from __future__ import annotations

import random
from pathlib import Path

ENGLISH = (
    "The council met on Tuesday to discuss the budget, and members raised questions about "
    "the timeline for the new transit line, which has been delayed twice since the spring. "
)
HINDI = (
    "शहर की परिषद ने मंगलवार को बजट पर चर्चा की और सदस्यों ने नई ट्रांजिट लाइन की समय-सीमा पर "
    "सवाल उठाए, जो वसंत के बाद से दो बार टल चुकी है। "
)


def _post_id(rng: random.Random) -> str:
    return str(rng.randrange(10**17, 2 * 10**18))


def _blockquote(rng: random.Random, post_id: str, handle: str) -> str:
    text = rng.choice(
        ["Breaking: the vote passed 7-2.", "नई लाइन अगले साल खुलेगी।", "Thread 🧵 on today's hearing"]
    )
    return (
        f'<blockquote class="twitter-tweet" data-lang="en"><p lang="en" dir="ltr">{text} '
        f'<a href="https://t.co/abc{post_id[-4:]}">pic.twitter.com/abc{post_id[-4:]}</a></p>'
        f"&mdash; City Desk (@{handle}) "
        f'<a href="https://twitter.com/{handle}/status/{post_id}?ref_src=twsrc%5Etfw">March 3, 2025</a>'
        f'</blockquote> <script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
    )


def _amp(post_id: str, handle: str) -> str:
    return (
        f'<amp-twitter width="375" height="472" layout="responsive" data-tweetid="{post_id}">'
        f'<blockquote placeholder class="twitter-tweet"><p lang="en">Live now</p>&mdash; Desk (@{handle}) '
        f'<a href="https://twitter.com/{handle}/status/{post_id}">May 1, 2025</a></blockquote></amp-twitter>'
    )


def _iframe(post_id: str) -> str:
    return (
        '<div class="twitter-tweet twitter-tweet-rendered" style="display: flex; max-width: 550px;">'
        f'<iframe id="twitter-widget-0" title="Twitter Tweet" src="https://platform.twitter.com/embed/Tweet.html?dnt=false&amp;id={post_id}&amp;lang=en" '
        f'data-tweet-id="{post_id}"></iframe></div>'
    )


def _wp_block(rng: random.Random, post_id: str, handle: str) -> str:
    url = f"https://x.com/{handle}/status/{post_id}"
    return (
        f'<!-- wp:embed {{"url":"{url}","type":"rich","providerNameSlug":"twitter","responsive":true}} -->\n'
        '<figure class="wp-block-embed is-type-rich is-provider-twitter wp-block-embed-twitter">'
        f'<div class="wp-block-embed__wrapper">\n{url}\n</div></figure>\n<!-- /wp:embed -->'
    )


DECOYS = (
    '<!-- <blockquote class="twitter-tweet"><a href="https://twitter.com/old/status/1234567890123">x</a></blockquote> -->',
    "<script>document.querySelectorAll('blockquote.twitter-tweet').forEach(function(e){e.remove()});</script>",
    '<p>As <a href="https://twitter.com/someone/status/1400000000000000000">she wrote</a>, the plan changed.</p>',
    '<a class="twitter-timeline" href="https://twitter.com/citydesk">Tweets by citydesk</a>',
)


def make_article(
    index: int,
    rng: random.Random,
    shared_ids: list[str],
    target_bytes: int = 150_000,
    density: float | None = None,
) -> str:
    """One article; some embeds reuse ``shared_ids`` so posts repeat across articles.

    ``density`` is the chance that the article carries embeds at all (1-5 of them);
    None keeps the historical dense mix (0-5 embeds, so ~5 in 6 articles have some),
    which leaves the default corpus byte-for-byte what earlier runs measured.
    """
    handle = f"desk{index % 50}"
    head = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Article {index}</title><style>{'.c{color:#333;margin:0 auto}' * 400}</style>"
        f"<script>{'window.ads=window.ads||[];ads.push({slot:1});' * 150}</script></head><body>"
        "<nav>"
        + "".join(f'<a href="/section/{n}/">Section {n}</a> ' for n in range(90))
        + "</nav><article>"
    )
    embeds = []
    if density is None:
        count = rng.randint(0, 5)
    else:
        count = rng.randint(1, 5) if rng.random() < density else 0
    for _ in range(count):
        post_id = rng.choice(shared_ids) if shared_ids and rng.random() < 0.3 else _post_id(rng)
        form = rng.random()
        if form < 0.6:
            embeds.append(_blockquote(rng, post_id, handle))
        elif form < 0.75:
            embeds.append(_amp(post_id, handle))
        elif form < 0.9:
            embeds.append(_iframe(post_id))
        else:
            embeds.append(_wp_block(rng, post_id, handle))
    body: list[str] = []
    size = len(head)
    while size < target_bytes:
        paragraph = f"<p>{(ENGLISH if rng.random() < 0.5 else HINDI) * rng.randint(2, 6)}</p>\n"
        body.append(paragraph)
        size += len(paragraph.encode("utf-8"))
        if embeds and rng.random() < 0.08:
            body.append(embeds.pop() + "\n")
        if rng.random() < 0.03:
            body.append(rng.choice(DECOYS) + "\n")
    body.extend(e + "\n" for e in embeds)
    return head + "".join(body) + "</article><footer>© 2026</footer></body></html>\n"


def write_corpus(
    folder: Path,
    count: int,
    seed: int = 7,
    density: float | None = None,
    target_bytes: int = 150_000,
) -> int:
    """Write ``count`` articles under ``folder``; return total bytes.

    ``density``: the share of articles with embeds (None: the historical dense mix).
    Decoys (commented embeds, theme JS, plain status links) stay in every density.
    ``target_bytes``: the size of an article's text (its head adds ~20 KB).
    """
    rng = random.Random(seed)
    shared = [_post_id(rng) for _ in range(40)]
    total = 0
    for index in range(count):
        sub = folder / f"section-{index % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        data = make_article(index, rng, shared, target_bytes, density).encode("utf-8")
        (sub / f"article-{index:05d}.html").write_bytes(data)
        total += len(data)
    return total
