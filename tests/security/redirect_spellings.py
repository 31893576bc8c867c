"""Ways to spell "another site" in a redirect target, as browsers read URLs (WHATWG).

Each must be refused by local_path(); the few at the end are paths on this site and must
pass unchanged. Written for this project after reading the WHATWG URL standard's parser
(tab/LF/CR removal, C0-and-space trimming, backslash as slash) and the usual open-redirect
bypass lists.
"""

from __future__ import annotations

ELSEWHERE = [
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    "/\t\\evil.example",
    " //evil.example",
    " /evil",
    "\x00//evil.example",
    "/\x00/evil.example",
    "\x1f//evil.example",
    "/\x0b/evil.example",
    "/\x0c/evil.example",
    "\u00a0//evil.example",
    "/\u2028/evil.example",
    "/\u200b/evil.example",
    "/\u202e/evil.example",
    "https://evil.example",
    "http://evil.example",
    "http:evil.example",
    "http:/evil.example",
    "https:/\\evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "evil.example",
    "evil.example/path",
    "?next=//evil.example",
    "#//evil.example",
    "／／evil.example",  # fullwidth solidus
    "\\\\\\evil.example",
    "/../\\evil.example",
    "/%09/evil.example",  # stays percent-encoded here: a path on this site, see LOCAL
]
# Percent-encoded spellings are not decoded by browsers in a path: they stay on this site.
LOCAL = [
    "/admin/posts/new",
    "/posts/%ED%95%9C%EA%B8%80",
    "/posts/한글",
    "/admin/?page=2&status=draft",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
]
ELSEWHERE.remove("/%09/evil.example")
LOCAL.append("/%09/evil.example")
