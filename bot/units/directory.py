"""Units and their secretaries: the database rows, indexed in memory for the hot path.

`UnitDirectory` answers `unit_of(user_id)` and `find(name)` from memory (every message asks
"whose secretary is this?"); every change goes to the database first, in one transaction with
its ChangeLog row, and then the index is rebuilt from the database, so memory never holds
anything the database does not. Uniqueness is the database's job (`unit.name_key` is unique),
so two bot processes adding the same unit at the same moment end with one row.

Precedence rules:
- quota: the chat override (/单位 配额), else the unit's own quota from contest.toml or the
  imported roster, else its category's quota;
- bindings: a binding made from chat or import (or a chat unbind, kept as a tombstone) wins
  over contest.toml, so a restart never silently undoes what an organizer did in the group.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from loguru import logger
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import require_aware
from bot.names import clean_name, name_key
from bot.refusal import NotFound, Refusal
from bot.settings.contest import Category, Contest, UnitSpec, unit_name_problem
from bot.settings.values import Problem
from bot.storage.changelog import ChangeLog
from bot.storage.db import Sessions, write_transaction
from bot.units.models import Origin, Secretary, Unit

QuotaSource = Literal["override", "unit", "category", "none"]

MAX_QUOTA = 100_000
MAX_CANDIDATES = 5
# A fragment shorter than this never matches by substring ("湖" is not a unit name).
MIN_PARTIAL = 2


def resolve_category(contest: Contest | None, text: str) -> Category | None:
    """The category named by its id ("town") or its name ("镇、街道"), leniently."""
    if contest is None:
        return None
    key = name_key(text)
    for category in contest.categories:
        if key in (name_key(category.id), name_key(category.name)):
            return category
    return None


def effective_quota(
    override: int | None, unit_quota: int | None, category: Category | None
) -> tuple[int | None, QuotaSource]:
    if override is not None:
        return override, "override"
    if unit_quota is not None:
        return unit_quota, "unit"
    if category is not None:
        return category.quota, "category"
    return None, "none"


@dataclass(frozen=True)
class UnitView:
    id: int
    name: str
    category: str
    aliases: tuple[str, ...]
    quota: int | None
    quota_source: QuotaSource
    secretaries: tuple[int, ...]
    origin: str


@dataclass(frozen=True)
class UnitMatch:
    """The unit a name means, or (unit None) the close names to offer instead."""

    unit: UnitView | None
    candidates: list[str] = field(default_factory=list)
    # True when the name fits several units equally (the candidates), False when it fits none.
    ambiguous: bool = False


@dataclass(frozen=True)
class ConfigSync:
    """What `sync_from_config` changed."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    bound: tuple[int, ...] = ()
    unbound: tuple[int, ...] = ()
    # Units that came from contest.toml and are no longer in it: kept, never deleted.
    orphaned: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.bound or self.unbound)


@dataclass(frozen=True)
class ImportResult:
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


class UnitError(Refusal):
    """A unit command that cannot be done; the message is for the user (Chinese)."""


class UnitExists(UnitError):
    def __init__(self, name: str, existing: str | None = None) -> None:
        self.name = name
        self.existing = existing or name
        if existing and name_key(existing) != name_key(name):
            message = f"「{name}」已是单位「{existing}」的别名，请换一个名称。"
        else:
            message = f"单位「{self.existing}」已存在。"
        super().__init__(message)


class UnknownCategory(UnitError):
    def __init__(self, category: str, valid: Sequence[str]) -> None:
        self.category = category
        self.valid = tuple(valid)
        choices = "、".join(self.valid) if self.valid else "（配置中没有类别）"
        super().__init__(f"没有类别「{category}」。可用的类别：{choices}")


SHOWN_NAME = 20


class UnitNotFound(UnitError, NotFound):
    """No unit has this name or alias; `candidates` are close names (maybe none)."""

    def __init__(self, query: str, candidates: Sequence[str] = ()) -> None:
        self.query = query
        self.candidates = list(candidates)
        shown = query[:SHOWN_NAME]
        if self.candidates:
            message = f"没有找到单位「{shown}」，您是不是要找：{'、'.join(self.candidates)}？"
        else:
            message = f"没有找到单位「{shown}」，请核对单位全称。"
        super().__init__(message)


class UnitAmbiguous(UnitError):
    """The name fits several units equally (`candidates`); the user must say which."""

    def __init__(self, query: str, candidates: Sequence[str]) -> None:
        self.query = query
        self.candidates = list(candidates)
        shown = query[:SHOWN_NAME]
        super().__init__(f"「{shown}」对应多个单位：{'、'.join(self.candidates)}，请写全称。")


class InvalidUnitName(UnitError):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"{reason}。")


class InvalidQuota(UnitError):
    def __init__(self, quota: int) -> None:
        self.quota = quota
        super().__init__(f"配额应为 0 到 {MAX_QUOTA} 之间的整数（收到 {quota}）。")


def _check_quota(quota: int | None) -> None:
    if quota is not None and not 0 <= quota <= MAX_QUOTA:
        raise InvalidQuota(quota)


def _check_name(name: str) -> str:
    cleaned = clean_name(name)
    reason = unit_name_problem(cleaned)
    if reason is not None:
        raise InvalidUnitName(name, reason)
    return cleaned


@dataclass
class _Index:
    """An immutable-by-convention snapshot; replaced whole, never mutated in place."""

    by_id: dict[int, UnitView] = field(default_factory=dict)
    by_user: dict[int, UnitView] = field(default_factory=dict)
    ordered: list[UnitView] = field(default_factory=list)
    # (folded name or alias, unit id, is_name)
    keys: list[tuple[str, int, bool]] = field(default_factory=list)
    # folded name or alias → unit ids whose name has it / whose alias has it
    names: dict[str, set[int]] = field(default_factory=dict)
    aliases: dict[str, set[int]] = field(default_factory=dict)


class UnitDirectory:
    """Units and secretary bindings: reads from memory, writes through the database."""

    def __init__(self, sessions: Sessions, contest: Contest | None = None) -> None:
        self._sessions = sessions
        self._contest = contest
        self._index = _Index()
        # Serialises this process's writes so each rebuilds the index after the last one.
        self._lock = asyncio.Lock()

    @classmethod
    async def load(cls, sessions: Sessions, contest: Contest | None = None) -> UnitDirectory:
        directory = cls(sessions, contest)
        await directory.reload()
        return directory

    @classmethod
    async def open(cls, sessions: Sessions, contest: Contest, now: datetime) -> UnitDirectory:
        """The directory with contest.toml's units synced in, as at every start."""
        directory = await cls.load(sessions, contest)
        await directory.sync_from_config(contest, now)
        return directory

    @property
    def contest(self) -> Contest | None:
        return self._contest

    # ---------------------------------------------------------------- reads (memory only)

    def unit_of(self, user_id: int) -> UnitView | None:
        return self._index.by_user.get(user_id)

    def list_units(self) -> list[UnitView]:
        """All units, by category (in config order) then name."""
        return list(self._index.ordered)

    def get(self, unit_id: int) -> UnitView | None:
        return self._index.by_id.get(unit_id)

    def secretaries_of(self, unit_name: str) -> list[int]:
        match = self.find(unit_name)
        return list(match.unit.secretaries) if match.unit else []

    def find(self, name: str) -> UnitMatch:
        """The unit `name` means: exact name or alias, else a unique prefix/substring.

        Ambiguous or unknown names give no unit and up to five candidate names; never a guess.
        """
        index = self._index
        key = name_key(name)
        if not key:
            return UnitMatch(None, [])
        exact_names = index.names.get(key, set())
        if len(exact_names) == 1:
            return UnitMatch(index.by_id[next(iter(exact_names))])
        exact = exact_names | index.aliases.get(key, set())
        if len(exact) == 1:
            return UnitMatch(index.by_id[next(iter(exact))])
        if exact:
            return UnitMatch(None, self._names(exact, key), ambiguous=True)
        partial: set[int] = set()
        if len(key) >= MIN_PARTIAL:
            partial = {
                uid for k, uid, _ in index.keys if key in k or (len(k) >= MIN_PARTIAL and k in key)
            }
        if len(partial) == 1:
            return UnitMatch(index.by_id[partial.pop()])
        if partial:
            return UnitMatch(None, self._names(partial, key), ambiguous=True)
        close = difflib.get_close_matches(
            key, [k for k, _, _ in index.keys], n=MAX_CANDIDATES * 2, cutoff=0.5
        )
        ids = {uid for k, uid, _ in index.keys if k in close}
        return UnitMatch(None, self._names(ids, key))

    def _names(self, ids: Iterable[int], key: str) -> list[str]:
        """Unit names for `ids`, closest to `key` first, at most MAX_CANDIDATES."""
        units = [self._index.by_id[i] for i in ids]

        def closeness(unit: UnitView) -> float:
            keys = [name_key(unit.name), *(name_key(a) for a in unit.aliases)]
            return max(difflib.SequenceMatcher(None, key, k).ratio() for k in keys)

        units.sort(key=lambda u: (-closeness(u), u.name))
        return [u.name for u in units[:MAX_CANDIDATES]]

    def require(self, unit_name: str) -> UnitView:
        """The unit `unit_name` means; `UnitAmbiguous` or `UnitNotFound` (with close names)."""
        match = self.find(unit_name)
        if match.unit is not None:
            return match.unit
        if match.ambiguous:
            raise UnitAmbiguous(unit_name, match.candidates)
        raise UnitNotFound(unit_name, match.candidates)

    # ---------------------------------------------------------------- index

    async def reload(self) -> None:
        """Rebuild the in-memory index from the database (e.g. after an outside import)."""
        async with self._sessions() as session:
            units = (await session.exec(select(Unit))).all()
            bindings = (
                await session.exec(select(Secretary).where(col(Secretary.unit_id).is_not(None)))
            ).all()
        self._index = self._build(units, bindings)

    def _build(self, units: Sequence[Unit], bindings: Sequence[Secretary]) -> _Index:
        contest = self._contest
        secretaries: dict[int, list[int]] = {}
        for b in bindings:
            assert b.unit_id is not None
            secretaries.setdefault(b.unit_id, []).append(b.user_id)
        index = _Index()
        for row in units:
            assert row.id is not None
            category = contest.category(row.category) if contest else None
            quota, source = effective_quota(row.quota_override, row.config_quota, category)
            view = UnitView(
                id=row.id,
                name=row.name,
                category=row.category,
                aliases=tuple(row.aliases),
                quota=quota,
                quota_source=source,
                secretaries=tuple(sorted(secretaries.get(row.id, ()))),
                origin=row.origin,
            )
            index.by_id[row.id] = view
            index.keys.append((row.name_key, row.id, True))
            index.names.setdefault(row.name_key, set()).add(row.id)
            for alias in {name_key(a) for a in row.aliases} - {"", row.name_key}:
                index.keys.append((alias, row.id, False))
                index.aliases.setdefault(alias, set()).add(row.id)
            for user_id in view.secretaries:
                index.by_user[user_id] = view
        order = {c.id: i for i, c in enumerate(contest.categories)} if contest else {}
        index.ordered = sorted(
            index.by_id.values(),
            key=lambda u: (order.get(u.category, len(order)), u.category, u.name),
        )
        return index

    # ---------------------------------------------------------------- writes

    async def add(
        self, name: str, category_id: str, quota: int | None, actor: int | None, now: datetime
    ) -> UnitView:
        """A new unit from chat (/单位 添加). `category_id` may also be the category's name."""
        require_aware(now)
        cleaned = _check_name(name)
        category = resolve_category(self._contest, category_id)
        if category is None:
            valid = [c.id for c in self._contest.categories] if self._contest else []
            raise UnknownCategory(category_id, valid)
        _check_quota(quota)
        key = name_key(cleaned)
        async with self._lock:
            clash = self._index.names.get(key) or self._index.aliases.get(key)
            if clash:
                raise UnitExists(cleaned, self._index.by_id[min(clash)].name)
            try:
                async with write_transaction(self._sessions) as session:
                    unit = Unit(
                        name=cleaned,
                        name_key=key,
                        category=category.id,
                        aliases=[],
                        quota_override=quota,
                        origin="chat",
                        created_at=now,
                        updated_at=now,
                        updated_by=actor,
                    )
                    session.add(unit)
                    await session.flush()
                    detail = {"unit": cleaned, "category": category.id, "quota": quota}
                    session.add(ChangeLog(at=now, actor=actor, action="unit.add", detail=detail))
            except IntegrityError:
                await self.reload()
                raise UnitExists(cleaned) from None
            await self.reload()
        logger.info("单位「{}」已添加（类别 {}，操作人 {}）", cleaned, category.id, actor)
        view = self._index.by_id.get(unit.id or -1)
        assert view is not None
        return view

    async def bind(
        self, user_id: int, unit_name: str, actor: int | None, now: datetime
    ) -> UnitView | None:
        """Make `user_id` a secretary of the unit; the unit they were bound to before, if any."""
        require_aware(now)
        unit = self.require(unit_name)
        async with self._lock:
            async with write_transaction(self._sessions) as session:
                previous_id = await _set_binding(session, user_id, unit.id, "chat", actor, now)
                previous = self._index.by_id.get(previous_id) if previous_id else None
                detail = {
                    "user_id": user_id,
                    "unit": unit.name,
                    "previous": previous.name if previous else None,
                }
                session.add(ChangeLog(at=now, actor=actor, action="unit.bind", detail=detail))
            await self.reload()
        logger.info("联络员 {} 已绑定到「{}」（操作人 {}）", user_id, unit.name, actor)
        return previous

    async def unbind(self, user_id: int, actor: int | None, now: datetime) -> UnitView | None:
        """Unbind `user_id` (remembered, so contest.toml does not re-bind it); the old unit."""
        require_aware(now)
        async with self._lock:
            async with write_transaction(self._sessions) as session:
                row = await session.get(Secretary, user_id)
                if row is None or row.unit_id is None:
                    return None
                previous = self._index.by_id.get(row.unit_id)
                row.unit_id = None
                row.origin = "chat"
                row.updated_at = now
                row.updated_by = actor
                session.add(row)
                detail = {"user_id": user_id, "unit": previous.name if previous else None}
                session.add(ChangeLog(at=now, actor=actor, action="unit.unbind", detail=detail))
            await self.reload()
        logger.info("联络员 {} 已解绑（操作人 {}）", user_id, actor)
        return previous

    async def set_quota(
        self, unit_name: str, quota: int | None, actor: int | None, now: datetime
    ) -> UnitView:
        """Override a unit's quota from chat; None returns to the config/category quota."""
        require_aware(now)
        _check_quota(quota)
        unit = self.require(unit_name)
        async with self._lock:
            async with write_transaction(self._sessions) as session:
                row = await session.get(Unit, unit.id)
                if row is None:
                    raise UnitNotFound(unit_name, [])
                before = row.quota_override
                row.quota_override = quota
                row.updated_at = now
                row.updated_by = actor
                session.add(row)
                detail = {"unit": unit.name, "quota": quota, "previous": before}
                session.add(ChangeLog(at=now, actor=actor, action="unit.quota", detail=detail))
            await self.reload()
        view = self._index.by_id[unit.id]
        logger.info("单位「{}」配额已设为 {}（操作人 {}）", unit.name, view.quota, actor)
        return view

    async def sync_from_config(self, contest: Contest, now: datetime) -> ConfigSync:
        """Bring the database in line with contest.toml, keeping what chat and import did.

        Config units are inserted or updated (category, aliases, own quota); units not in the
        config are kept. Config bindings are added, moved or removed, except for QQ ids bound
        or unbound from chat/import. The category quotas of `contest` apply from now on.
        """
        require_aware(now)
        async with self._lock:
            self._contest = contest
            async with write_transaction(self._sessions) as session:
                result = await _sync(session, contest, now)
                if result.changed:
                    detail: dict[str, Any] = {
                        "added": list(result.added),
                        "updated": list(result.updated),
                        "bound": list(result.bound),
                        "unbound": list(result.unbound),
                        "orphaned": list(result.orphaned),
                    }
                    session.add(ChangeLog(at=now, actor=None, action="config.sync", detail=detail))
            await self.reload()
        for name in result.orphaned:
            logger.warning("单位「{}」已不在 contest.toml 中，但数据库保留了它（及其数据）。", name)
        if result.changed:
            logger.info(
                "单位配置已同步：新增 {}，更新 {}，绑定 {}，解绑 {}",
                len(result.added),
                len(result.updated),
                len(result.bound),
                len(result.unbound),
            )
        return result

    async def apply_roster(
        self, specs: Sequence[UnitSpec], actor: int | None, now: datetime, *, source: str
    ) -> ImportResult:
        """Add or update units from an imported roster, in one transaction; idempotent.

        `specs` must carry category ids (see bot.units.roster). A unit managed by contest.toml
        keeps its category and quota (a difference is reported), but its secretaries are bound.
        """
        require_aware(now)
        async with self._lock:
            async with write_transaction(self._sessions) as session:
                result = await _apply_roster(session, specs, actor, now, source)
                if result.added or result.updated:
                    detail = {
                        "file": source,
                        "added": list(result.added),
                        "updated": list(result.updated),
                    }
                    session.add(ChangeLog(at=now, actor=actor, action="unit.import", detail=detail))
            await self.reload()
        return result


# -------------------------------------------------------------------- database helpers


async def _set_binding(
    session: AsyncSession,
    user_id: int,
    unit_id: int,
    origin: Origin,
    actor: int | None,
    now: datetime,
) -> int | None:
    """Bind `user_id` to `unit_id`; the unit id it was bound to before (None if none)."""
    row = await session.get(Secretary, user_id)
    if row is None:
        session.add(
            Secretary(
                user_id=user_id, unit_id=unit_id, origin=origin, updated_at=now, updated_by=actor
            )
        )
        await session.flush()
        return None
    previous = row.unit_id
    row.unit_id = unit_id
    row.origin = origin
    row.updated_at = now
    row.updated_by = actor
    session.add(row)
    await session.flush()
    return previous


async def _sync(session: AsyncSession, contest: Contest, now: datetime) -> ConfigSync:
    rows = {u.name_key: u for u in (await session.exec(select(Unit))).all()}
    added: list[str] = []
    updated: list[str] = []
    configured: set[str] = set()
    for spec in contest.units:
        name = clean_name(spec.name)
        key = name_key(name)
        if key in configured:
            logger.warning("contest.toml 中单位「{}」重复出现，只采用第一处。", name)
            continue
        configured.add(key)
        aliases = list(dict.fromkeys(clean_name(a) for a in spec.aliases if clean_name(a)))
        row = rows.get(key)
        if row is None:
            row = Unit(
                name=name,
                name_key=key,
                category=spec.category,
                aliases=aliases,
                config_quota=spec.quota,
                origin="config",
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            rows[key] = row
            added.append(name)
            continue
        wanted = (spec.category, aliases, spec.quota, "config")
        if (row.category, list(row.aliases), row.config_quota, row.origin) != wanted:
            row.category, row.aliases, row.config_quota, row.origin = wanted
            row.updated_at = now
            row.updated_by = None
            session.add(row)
            updated.append(row.name)
    await session.flush()
    orphaned = tuple(
        sorted(r.name for k, r in rows.items() if r.origin == "config" and k not in configured)
    )

    desired: dict[int, int] = {}
    for spec in contest.units:
        unit_id = rows[name_key(clean_name(spec.name))].id
        assert unit_id is not None
        for user_id in spec.secretaries:
            if desired.setdefault(user_id, unit_id) != unit_id:
                logger.warning("contest.toml 中联络员 {} 出现在多个单位，只采用第一处。", user_id)
    existing = {s.user_id: s for s in (await session.exec(select(Secretary))).all()}
    bound: list[int] = []
    unbound: list[int] = []
    for user_id, unit_id in desired.items():
        row = existing.get(user_id)
        if row is None:
            session.add(
                Secretary(user_id=user_id, unit_id=unit_id, origin="config", updated_at=now)
            )
            bound.append(user_id)
        elif row.origin == "config" and row.unit_id != unit_id:
            row.unit_id = unit_id
            row.updated_at = now
            row.updated_by = None
            session.add(row)
            bound.append(user_id)
        elif row.origin != "config" and row.unit_id != unit_id:
            logger.info(
                "联络员 {} 在群里或导入时已另行设置（{}），不按 contest.toml 绑定。",
                user_id,
                "已解绑" if row.unit_id is None else f"单位 id {row.unit_id}",
            )
    for user_id, row in existing.items():
        if row.origin == "config" and user_id not in desired:
            await session.delete(row)
            unbound.append(user_id)
    await session.flush()
    return ConfigSync(
        added=tuple(added),
        updated=tuple(updated),
        bound=tuple(sorted(bound)),
        unbound=tuple(sorted(unbound)),
        orphaned=orphaned,
    )


async def _apply_roster(
    session: AsyncSession,
    specs: Sequence[UnitSpec],
    actor: int | None,
    now: datetime,
    source: str,
) -> ImportResult:
    units = list((await session.exec(select(Unit))).all())
    by_key: dict[str, Unit] = {}
    for unit in units:
        for alias in unit.aliases:
            by_key.setdefault(name_key(alias), unit)
    for unit in units:
        by_key[unit.name_key] = unit  # a name beats another unit's alias
    bound_to = {s.user_id: s.unit_id for s in (await session.exec(select(Secretary))).all()}
    added: list[str] = []
    updated: list[str] = []
    skipped: list[str] = []
    problems: list[Problem] = []
    for spec in specs:
        name = clean_name(spec.name)
        key = name_key(name)
        aliases = [clean_name(a) for a in spec.aliases if clean_name(a)]
        row = by_key.get(key)
        changed = False
        if row is None:
            row = Unit(
                name=name,
                name_key=key,
                category=spec.category,
                aliases=list(dict.fromkeys(aliases)),
                config_quota=spec.quota,
                origin="import",
                created_at=now,
                updated_at=now,
                updated_by=actor,
            )
            session.add(row)
            await session.flush()
            by_key[key] = row
            for alias in row.aliases:
                by_key.setdefault(name_key(alias), row)
            added.append(name)
        elif row.origin == "config":
            if row.category != spec.category or (
                spec.quota is not None and spec.quota != row.config_quota
            ):
                problems.append(
                    Problem(
                        source,
                        f"单位「{name}」",
                        f"单位「{row.name}」由 contest.toml 管理，名单中的类别和配额未采用；"
                        "如需修改，请改 contest.toml。",
                    )
                )
        else:
            merged = list(dict.fromkeys([*row.aliases, *aliases]))
            merged = [a for a in merged if name_key(a) != row.name_key]
            quota = spec.quota if spec.quota is not None else row.config_quota
            if (row.category, list(row.aliases), row.config_quota) != (
                spec.category,
                merged,
                quota,
            ):
                row.category, row.aliases, row.config_quota = spec.category, merged, quota
                row.updated_at = now
                row.updated_by = actor
                session.add(row)
                changed = True
        assert row.id is not None
        for user_id in spec.secretaries:
            if bound_to.get(user_id) == row.id:
                continue
            await _set_binding(session, user_id, row.id, "import", actor, now)
            bound_to[user_id] = row.id
            changed = True
        if name in added:
            continue
        (updated if changed else skipped).append(name)
    await session.flush()
    return ImportResult(
        added=tuple(added), updated=tuple(updated), skipped=tuple(skipped), problems=tuple(problems)
    )
