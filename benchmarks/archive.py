"""A generated Jekyll site for the benchmark: a newsroom's archive, Korean and English.

Posts are like blog/sample/_posts: Tistory-style HTML (inline colour spans, `data-ke-*`
attributes, tables, lists) or Markdown (headings, emphasis, links, lists, tables, quotes),
2 to 12 KB long, with categories, tags, an excerpt now and then and the sample's image in
some. A few are scheduled (dated in the future) or drafts (in _drafts/ or `published:
false`). The same seed writes the same site, so two runs import the same archive.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

SAMPLE_IMAGE = (
    Path(__file__).resolve().parents[1] / "blog/sample/assets/img/newsdao_breakingnews.jpg"
)

CATEGORIES = [
    "정치", "경제", "사회", "국제", "문화", "스포츠", "IT/과학", "생활", "건강", "교육",
    "환경", "부동산", "증권", "산업", "노동", "지역", "오피니언", "사설", "인터뷰", "기획",
    "속보", "연예", "여행", "음식", "World", "Business", "Technology", "Science", "Culture",
    "Opinion", "Sports", "Health", "Climate", "Media", "Asia", "Features",
]  # fmt: skip

_TAG_STEMS_KO = [
    "대통령실", "국회", "한미동맹", "반도체", "금리", "물가", "환율", "수출", "부동산", "전세",
    "청년", "저출산", "고령화", "기후위기", "탄소중립", "인공지능", "플랫폼", "스타트업", "의료",
    "교육개혁", "입시", "노동시장", "최저임금", "지방선거", "총선", "외교", "북한", "중국", "일본",
    "미국", "유럽", "배터리", "전기차", "원전", "재생에너지", "태풍", "폭염", "미세먼지", "K팝",
    "영화", "드라마", "야구", "축구", "올림픽", "관광", "외식", "주식", "코스피", "가상자산",
]  # fmt: skip
_TAG_STEMS_EN = [
    "election", "inflation", "semiconductors", "interest-rates", "housing", "startups", "ai",
    "climate", "energy", "diplomacy", "trade", "labour", "health", "education", "k-pop",
    "film", "baseball", "football", "travel", "food", "markets", "crypto", "batteries", "ev",
    "nuclear", "weather", "china", "japan", "usa", "europe",
]  # fmt: skip
_TAG_SUFFIXES_KO = ["", " 정책", " 논란", " 전망", " 현장", " 분석"]
_TAG_SUFFIXES_EN = ["", "-policy", "-analysis", "-outlook", "-2024"]
TAGS = [stem + suffix for stem in _TAG_STEMS_KO for suffix in _TAG_SUFFIXES_KO] + [
    stem + suffix for stem in _TAG_STEMS_EN for suffix in _TAG_SUFFIXES_EN
]  # 450 tags

_KO_SUBJECTS = [
    "대통령실", "정부", "국회", "외교부", "기획재정부", "한국은행", "업계 관계자", "전문가들",
    "시민단체", "야당", "여당", "서울시", "교육부", "연구진", "주최 측", "구단",
]  # fmt: skip
_KO_TOPICS = [
    "한·미 동맹", "반도체 수출", "기준금리", "전세 시장", "청년 고용", "기후 대응", "의료 개혁",
    "지방 소멸", "인공지능 규제", "물가 안정", "공급망 재편", "에너지 전환", "입시 제도",
    "관광 회복", "플랫폼 규제", "노동 시간",
]  # fmt: skip
_KO_PREDICATES = [
    "에 대한 입장을 22일 밝혔다.",
    "와 관련해 초당적 협력이 필요하다고 강조했다.",
    "을 둘러싼 논의가 앞으로 더욱 본격화할 것으로 보인다고 설명했다.",
    "에 대해서는 신중한 접근이 필요하다는 의견을 내놓았다.",
    "의 영향이 올해 하반기까지 이어질 것이라고 전망했다.",
    "을 지속적으로 발전시켜 나갈 것이라고 덧붙였다.",
    "에 관한 구체적인 일정은 아직 정해지지 않았다고 전했다.",
    "이 시민들의 일상에 미치는 영향이 적지 않다는 점에서 매우 의미가 있다고 평가했다.",
]  # fmt: skip
_EN_SUBJECTS = [
    "The presidential office", "The finance ministry", "Analysts", "Lawmakers", "The central bank",
    "Researchers", "City officials", "Industry groups", "The organisers", "Union leaders",
]  # fmt: skip
_EN_TOPICS = [
    "the alliance", "chip exports", "the policy rate", "the housing market", "youth employment",
    "climate policy", "medical reform", "supply chains", "the energy transition", "AI rules",
]  # fmt: skip
_EN_PREDICATES = [
    "said on Monday that talks on {t} would continue regardless of the election result.",
    "stressed that {t} had bipartisan support and would remain a priority.",
    "expect {t} to weigh on growth well into the second half of the year.",
    "declined to comment on {t}, citing the ongoing review.",
    "warned that {t} could change faster than most households expect.",
    "described {t} as the most important question of the coming decade.",
]  # fmt: skip
_COLOURS = ["#ee2323", "#1a5490", "#006dd7", "#009a87", "#8a3db6"]
_HIGHLIGHTS = ["#21538527", "#f6e19955", "#c1bef94d"]


@dataclass
class ArchiveStats:
    """What was written: totals by kind, and how many posts readers will see."""

    files: int = 0
    published: int = 0
    scheduled: int = 0
    drafts: int = 0
    korean: int = 0
    html: int = 0
    with_image: int = 0
    bytes: int = 0


class _Writer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def sentence(self, korean: bool) -> str:
        r = self.rng
        if korean:
            return f"{r.choice(_KO_SUBJECTS)}는 {r.choice(_KO_TOPICS)}{r.choice(_KO_PREDICATES)}"
        return f"{r.choice(_EN_SUBJECTS)} {r.choice(_EN_PREDICATES).format(t=r.choice(_EN_TOPICS))}"

    def paragraph(self, korean: bool) -> list[str]:
        return [self.sentence(korean) for _ in range(self.rng.randint(3, 6))]

    def title(self, korean: bool) -> str:
        r = self.rng
        if korean:
            return (
                f"{r.choice(_KO_TOPICS)} {r.choice(['논의', '전망', '현장', '쟁점', '발표'])}: "
                + (f"{r.choice(_KO_SUBJECTS)} {r.choice(['입장 공개', '대책 발표', '협력 강조'])}")
            )
        return f"{r.choice(_EN_SUBJECTS)} on {r.choice(_EN_TOPICS)}".replace("The ", "", 1)

    def html_body(self, korean: bool, target: int, image: bool) -> str:
        r = self.rng
        parts = (
            ['<p><img src="/assets/img/newsdao_breakingnews.jpg" alt="속보" /></p>']
            if image
            else []
        )
        size = 0
        while size < target:
            chunk: list[str] = [
                f'<h2 data-ke-size="size26">{self.title(korean)}</h2>',
                '<p data-ke-size="size16">&nbsp;</p>',
            ]
            for _ in range(r.randint(2, 4)):
                sentences = self.paragraph(korean)
                i = r.randrange(len(sentences))
                if r.random() < 0.5:
                    style = f"color: {r.choice(_COLOURS)};"
                else:
                    style = f"background-color: {r.choice(_HIGHLIGHTS)};"
                sentences[i] = f'<b><span style="{style}">{sentences[i]}</span></b>'
                chunk.append(f"<p>{' '.join(sentences)} </p>")
            if r.random() < 0.3:
                cells = "".join(
                    "<tr>"
                    + "".join(
                        f'<td style="width: 33.3%;">{r.choice(_KO_TOPICS)}</td>' for _ in "abc"
                    )
                    + "</tr>"
                    for _ in range(r.randint(2, 5))
                )
                chunk.append(
                    '<table style="border-collapse: collapse; width: 100%;" border="1" '
                    'data-ke-align="alignLeft" data-ke-style="style12">'
                    f"<tbody>{cells}</tbody></table>"
                )
            if r.random() < 0.3:
                items = "".join(f"<li>{self.sentence(korean)}</li>" for _ in range(r.randint(3, 6)))
                chunk.append(
                    f'<ul style="list-style-type: disc;" data-ke-list-type="disc">{items}</ul>'
                )
            if r.random() < 0.15:
                chunk.append(
                    f'<blockquote data-ke-style="style2">{self.sentence(korean)}</blockquote>'
                )
            text = "\n\n".join(chunk)
            parts.append(text)
            size += len(text.encode())
        return "\n\n".join(parts) + "\n"

    def markdown_body(self, korean: bool, target: int, image: bool) -> str:
        r = self.rng
        parts = ["![속보](/assets/img/newsdao_breakingnews.jpg)"] if image else []
        size = 0
        while size < target:
            chunk = [f"## {self.title(korean)}"]
            for _ in range(r.randint(2, 4)):
                sentences = self.paragraph(korean)
                sentences[0] = f"**{sentences[0]}**"
                if r.random() < 0.4:
                    sentences[-1] = (
                        f"[{sentences[-1]}](https://example.com/news/{r.randint(1, 9999)})"
                    )
                chunk.append(" ".join(sentences))
            if r.random() < 0.3:
                chunk.append(
                    "\n".join(f"- {self.sentence(korean)}" for _ in range(r.randint(3, 6)))
                )
            if r.random() < 0.2:
                rows = [f"| {r.choice(_KO_TOPICS)} | {r.randint(1, 99)}% |" for _ in range(4)]
                chunk.append("| 항목 | 비율 |\n| --- | ---: |\n" + "\n".join(rows))
            if r.random() < 0.15:
                chunk.append(f"> {self.sentence(korean)}")
            text = "\n\n".join(chunk)
            parts.append(text)
            size += len(text.encode())
        return "\n\n".join(parts) + "\n"


def _yaml_list(values: list[str]) -> str:
    return "".join(f'\n  - "{value}"' for value in values)


def write_archive(
    root: Path, posts: int, now: datetime | None = None, seed: int = 10
) -> ArchiveStats:
    """Write a Jekyll site of `posts` posts under `root` (_posts, _drafts, assets, config)."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    now = now or datetime.now(UTC)
    (root / "_posts").mkdir(parents=True)
    (root / "_drafts").mkdir()
    (root / "assets/img").mkdir(parents=True)
    shutil.copyfile(SAMPLE_IMAGE, root / "assets/img/newsdao_breakingnews.jpg")
    (root / "_config.yml").write_text("title: Benchmark newsroom\ntimezone: Asia/Seoul\n")
    stats = ArchiveStats()
    # Evenly spread over the past (every 4 hours, or over ten years for a larger archive),
    # the newest within the last hour; the scheduled few are in the future.
    spacing = min(timedelta(hours=4), timedelta(days=3650) / posts)
    oldest = now - spacing * posts
    for n in range(posts):
        roll = rng.random()
        korean = rng.random() < 0.7
        html = rng.random() < 0.5
        image = rng.random() < 0.2
        title = writer.title(korean)
        when = oldest + spacing * (n + rng.random() * 0.8)
        kind = "published"
        if roll < 0.01:
            kind, when = (
                "scheduled",
                now + timedelta(days=rng.randint(2, 60), hours=rng.randint(0, 23)),
            )
        elif roll < 0.02:
            kind = "draft-folder"
        elif roll < 0.03:
            kind = "draft-flag"
        # Categories and tags follow a long tail, as a real newsroom's do.
        categories = list(dict.fromkeys(
            CATEGORIES[min(int(rng.paretovariate(1.2)) - 1, len(CATEGORIES) - 1)]
            for _ in range(rng.choice((1, 1, 1, 2)))
        ))  # fmt: skip
        tags = list(dict.fromkeys(
            TAGS[min(int(rng.expovariate(1 / 60)), len(TAGS) - 1)] for _ in range(rng.randint(1, 6))
        ))  # fmt: skip
        target = int(rng.triangular(2000, 12000, 5000))
        body = (writer.html_body if html else writer.markdown_body)(korean, target, image)
        front = [f'title: "{title}"', f"date: {when.strftime('%Y-%m-%d %H:%M:%S +0000')}"]
        front.append("categories:" + _yaml_list(categories))
        front.append("tags:" + _yaml_list(tags))
        if rng.random() < 0.3:
            front.append(f'excerpt: "{writer.sentence(korean)}"')
        if kind == "draft-flag":
            front.append("published: false")
        slug = f"{'기사' if korean else 'story'}-{n}"
        extension = "html" if html else "md"
        if kind == "draft-folder":
            path = root / "_drafts" / f"{slug}.{extension}"
        else:
            path = root / "_posts" / f"{when.strftime('%Y-%m-%d')}-{slug}.{extension}"
        text = "---\n" + "\n".join(front) + "\n---\n\n" + body
        path.write_text(text)
        stats.files += 1
        stats.bytes += len(text.encode())
        stats.korean += korean
        stats.html += html
        stats.with_image += image
        if kind == "published":
            stats.published += 1
        elif kind == "scheduled":
            stats.scheduled += 1
        else:
            stats.drafts += 1
    return stats
