"""TOML syntax errors explained in plain Chinese: which line, what is wrong, how to fix it.

tomllib says "Unclosed array (at line 2, column 1)" or "Invalid value" in English, and often
points past the real mistake (an unclosed list is noticed on the next line). The mistakes an
organizer typing on a Chinese keyboard makes are few and recognisable from the line itself:
full-width punctuation outside quotes, Chinese quotation marks, a date that does not exist,
text without quotes, a bracket never closed, a key written twice.
"""

from __future__ import annotations

import re
from datetime import date

# Full-width punctuation and what TOML needs instead.
FULL_WIDTH = {
    "，": ",",
    "＝": "=",
    "：": "=",
    "；": ",",
    "【": "[",
    "】": "]",
    "［": "[",
    "］": "]",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
}
_WHERE = re.compile(r"\(at (?:line (\d+), column (\d+)|end of document)\)")
_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_CJK = re.compile(r"[\u3400-\u9fff]")
GENERIC = (
    "TOML 格式错误（{reason}）；常见原因：文字没加英文双引号、括号或引号不配对、同一个键写了两次"
)


def _outside_quotes(line: str) -> str:
    """`line` with ASCII-quoted strings and the comment blanked out."""
    kept: list[str] = []
    quote = ""
    for ch in line:
        if quote:
            kept.append(" ")
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            kept.append(" ")
        elif ch == "#":
            break
        else:
            kept.append(ch)
    return "".join(kept)


def _full_width(line: str) -> str | None:
    outside = _outside_quotes(line)
    for ch in outside:
        if ch in "“”‘’":
            return f'文字要用英文双引号括起来（"…"），不能用中文引号 {ch}'
        if ch in FULL_WIDTH:
            return f"“{ch}”是中文标点，TOML 里要用英文半角的“{FULL_WIDTH[ch]}”"
    return None


def _bad_date(line: str) -> str | None:
    for found in _DATE.finditer(_outside_quotes(line)):
        try:
            date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            return f"日期“{found[0]}”不存在，请核对年、月、日（例如 2027-07-31）"
    return None


_NO_SECONDS = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?![:\d])")


def _time_without_seconds(line: str) -> str | None:
    found = _NO_SECONDS.search(_outside_quotes(line))
    if found is None:
        return None
    return f"时间要写到秒：{found[1]} {found[2]}:00（或只写日期 {found[1]}）"


def _unquoted_text(line: str) -> str | None:
    _, sep, value = _outside_quotes(line).partition("=")
    if sep and _CJK.search(value):
        key = line.partition("=")[0].strip() or "name"
        text = value.strip()
        return f'文字要加英文双引号，例如 {key} = "{text}"'
    return None


def explain(content: str, message: str) -> tuple[int | None, str]:
    """The line (1-based) and a Chinese explanation of a tomllib error `message`."""
    found = _WHERE.search(message)
    reason = _WHERE.sub("", message).strip()
    lines = content.splitlines()
    if found is None or not lines:
        return None, GENERIC.format(reason=reason)
    number = min(int(found[1]), len(lines)) if found[1] else len(lines)
    # An unclosed list or a missing "=" may be noticed a line late: look back to the line that
    # opened it, nearest first.
    candidates = [number]
    if reason.startswith("Unclosed") or number > 1:
        candidates += list(range(number - 1, max(0, number - 30), -1))
    for check in (_full_width, _bad_date, _time_without_seconds, _unquoted_text):
        for at in candidates[:1] if check is _unquoted_text else candidates[:2]:
            said = check(lines[at - 1])
            if said is not None:
                return at, said + "。"
    if reason.startswith("Unclosed array"):
        opened = next((at for at in candidates if "[" in _outside_quotes(lines[at - 1])), number)
        return opened, "方括号没有闭合：列表要写成 [ 第一项, 第二项 ]，末尾补上“]”。"
    if "table declaration" in reason:
        return number, "表头的方括号没有闭合：应写成 [contest] 这样，一行一个。"
    if reason.startswith("Cannot overwrite") or reason.startswith("Cannot declare"):
        return number, "同一个键（或同一个表）写了两次：删掉或合并其中一处。"
    return number, GENERIC.format(reason=reason)
