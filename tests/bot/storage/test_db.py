from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col, select

import bot.storage.db
import bot.storage.tables
from bot.dashboard.scores import ScoreBook
from bot.dashboard.store import EntryScore
from bot.judging.models import JudgeScore
from bot.storage.changelog import ChangeLog
from bot.storage.db import (
    VERSION_TABLE,
    SchemaTooNew,
    SchemaUnversioned,
    current_revision,
    head_revision,
    known_revisions,
    make_engine,
    migrate,
    session_maker,
)
from bot.units.models import Secretary, Unit

NOW = datetime(2027, 6, 20, 9, 30, tzinfo=UTC)


def _seed_0001(conn: Connection) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO unit (name, name_key, category, aliases, origin, created_at, updated_at)"
            " VALUES ('南湖街道', '南湖街道', 'town', '[\"南湖\"]', 'chat', :t, :t)"
        ),
        {"t": NOW},
    )
    conn.execute(
        sa.text(
            "INSERT INTO secretary (user_id, unit_id, origin, updated_at)"
            " SELECT 4000000001, id, 'chat', :t FROM unit WHERE name = '南湖街道'"
        ),
        {"t": NOW},
    )


def _seed_0002(conn: Connection) -> None:
    _seed_0001(conn)
    conn.execute(
        sa.text(
            "INSERT INTO entry (receipt, url, given_url, platform, platform_name, kind, unit_id,"
            " author, submitted_by, submitted_at, late, status, verify_status, flags, flagged)"
            " SELECT 1, 'https://weibo.com/1234567890/Abc123', 'weibo.com/1234567890/Abc123',"
            " 'weibo.com', '新浪微博', 'microblog', id, '张三', 4000000001, :t, false,"
            " 'accepted', 'pending', '[]', false FROM unit WHERE name = '南湖街道'"
        ),
        {"t": NOW},
    )
    conn.execute(sa.text("UPDATE receipt_counter SET value = 1"))


def _seed_0003(conn: Connection) -> None:
    _seed_0002(conn)
    conn.execute(
        sa.text(
            "INSERT INTO faq_entry (id, question, phrasings, keywords, answer, tags, deleted,"
            " updated_by, updated_at) VALUES ('party-fee', '党费怎么交？', '[]', '[]',"
            " '问党务干事。', '[]', false, 10000, :t)"
        ),
        {"t": NOW},
    )
    conn.execute(
        sa.text(
            "INSERT INTO faq_unanswered (key, text, count, first_at, last_at)"
            " VALUES ('几点开会', '几点开会？', 2, :t, :t)"
        ),
        {"t": NOW},
    )


def _seed_0005(conn: Connection) -> None:
    _seed_0003(conn)
    conn.execute(
        sa.text(
            "INSERT INTO login_token (token_hash, user_id, organizer, judge, created_at,"
            " expires_at) VALUES (:h, 10000, true, false, :t, :t)"
        ),
        {"h": "ab" * 32, "t": NOW},
    )
    conn.execute(
        sa.text(
            "INSERT INTO entry_score (receipt, judge_id, quality, comment, updated_at)"
            " VALUES (1, 20001, 8, '条理清楚', :t)"
        ),
        {"t": NOW},
    )


def _seed_0006(conn: Connection) -> None:
    _seed_0005(conn)
    conn.execute(
        sa.text("INSERT INTO faq_asked (entry_id, count, last_at) VALUES ('blog-link', 3, :t)"),
        {"t": NOW},
    )


def _seed_0007(conn: Connection) -> None:
    _seed_0006(conn)
    conn.execute(
        sa.text(
            "INSERT INTO faq_unanswered (key, text, count, first_at, last_at, kind, offered)"
            " VALUES ('怎么插图片', '怎么插图片', 1, :t, :t, 'suggested',"
            ' \'["blog-image", "weibo-image"]\')'
        ),
        {"t": NOW},
    )


def _seed_0008(conn: Connection) -> None:
    _seed_0007(conn)
    conn.execute(
        sa.text(
            "INSERT INTO dashboard_session (token_hash, user_id, group_admin, created_at,"
            " expires_at) VALUES (:h, 10000, false, :t, :t)"
        ),
        {"h": "cd" * 32, "t": NOW},
    )


def _seed_0009(conn: Connection) -> None:
    _seed_0008(conn)
    conn.execute(
        sa.text("INSERT INTO person (user_id, name, updated_at) VALUES (10003, '张三', :t)"),
        {"t": NOW},
    )


def _seed_0010(conn: Connection) -> None:
    _seed_0009(conn)
    conn.execute(
        sa.text(
            "INSERT INTO judge_score (receipt, judge_id, criterion, value, comment, updated_at)"
            " VALUES (1, 20002, 'quality', 7, NULL, :t)"
        ),
        {"t": NOW},
    )
    conn.execute(
        sa.text(
            "INSERT INTO judging_assignment (receipt, judge_id, assigned_at, dropped_at,"
            " dropped_reason) VALUES (1, 20002, :t, :t, '评委退出')"
        ),
        {"t": NOW},
    )
    conn.execute(
        sa.text("INSERT INTO judging_round (opened_at, opened_by, policy) VALUES (:t, 10000, :p)"),
        {"t": NOW, "p": '{"judges_per_entry": 3}'},
    )


def _seed_0011(conn: Connection) -> None:
    _seed_0010(conn)
    conn.execute(
        sa.text(
            "INSERT INTO metric_snapshot (receipt, metric, value, measured_at, source,"
            " recorded_by, recorded_at) VALUES (1, 'views', 9000000000, :t, '表格 a.xlsx 第 2 行',"
            " NULL, :t)"
        ),
        {"t": NOW},
    )


def _seed_0012(conn: Connection) -> None:
    _seed_0011(conn)
    conn.execute(
        sa.text("UPDATE entry SET fingerprint = :f, snapshot = :s WHERE receipt = 1"),
        {"f": "ab" * 32, "s": '{"title": "重温党史", "excerpt": "七一前夕", "images": []}'},
    )
    conn.execute(
        sa.text(
            "INSERT INTO recheck_run (started_at, started_by, finished_at, total, counts)"
            " VALUES (:t, 10000, :t, 1, :c)"
        ),
        {"t": NOW, "c": '{"changed": 1}'},
    )
    conn.execute(
        sa.text(
            "INSERT INTO entry_recheck (run, receipt, outcome, detail, before, after, checked_at,"
            " decision, decided_by, decided_at) VALUES (1, 1, 'changed', '正文有改动', NULL, NULL,"
            " :t, 'keep', 10000, :t)"
        ),
        {"t": NOW},
    )


def _seed_0014(conn: Connection) -> None:
    _seed_0012(conn)
    conn.execute(
        sa.text(
            "INSERT INTO results_version (version, published_at, published_by, note, data)"
            " VALUES (1, :t, 10000, '初评', :d)"
        ),
        {
            "t": NOW,
            "d": '{"formula": "综合", "entries": [], "people": [], "units": [],'
            ' "unnamed": [], "computed_at": "2027-07-10T00:00:00+00:00"}',
        },
    )


def _seed_0016(conn: Connection) -> None:
    _seed_0014(conn)
    conn.execute(
        sa.text(
            "INSERT INTO bot_account (self_id, nickname, owner, connected, groups_known,"
            " first_seen, connected_at, last_seen) VALUES (3000000001, '大赛助手', 'host:1:ab',"
            " true, true, :t, :t, :t)"
        ),
        {"t": NOW},
    )
    conn.execute(
        sa.text(
            "INSERT INTO bot_group (self_id, group_id, muted_until, updated_at)"
            " VALUES (3000000001, 123456789, NULL, :t)"
        ),
        {"t": NOW},
    )
    conn.execute(
        sa.text("INSERT INTO event_claim (key, self_id, at) VALUES ('9f86d081', 3000000001, :t)"),
        {"t": NOW},
    )
    conn.execute(
        sa.text(
            "INSERT INTO relay_message (group_id, text, created_at, status)"
            " VALUES (123456789, '评奖结果已发布', :t, 'pending')"
        ),
        {"t": NOW},
    )


def _seed_0017(conn: Connection) -> None:
    _seed_0016(conn)
    conn.execute(
        sa.text(
            "INSERT INTO contest_round (id, label, started_at, closed_at, archive, entries)"
            " VALUES (1, '2027年', :t, :t, 'bot.round-1.sqlite', 1),"
            " (2, '2028年', :t, NULL, NULL, NULL)"
        ),
        {"t": NOW},
    )


def _seed_0004(conn: Connection) -> None:
    _seed_0003(conn)
    conn.execute(
        sa.text(
            "INSERT INTO reminder_send (target, key, kind, due, status, late, attempts,"
            " pieces_sent, claimed_at, finished_at) VALUES ('group:123456789',"
            " 'offset:3d@2027-07-01T10:00:00Z', 'offset', :t, 'sent', false, 1, 1, :t, :t)"
        ),
        {"t": NOW},
    )
    conn.execute(sa.text("UPDATE reminder_state SET paused = true, changed_by = 10000"))


# Data written with the schema as it stood at each revision (raw SQL: the models describe only
# the newest schema). A new migration adds its entry here.
SEEDS: dict[str, Callable[[Connection], None]] = {
    "0001": _seed_0001,
    "0002": _seed_0002,
    "0003": _seed_0003,
    "0004": _seed_0004,
    "0005": _seed_0005,
    "0006": _seed_0006,
    "0007": _seed_0007,
    "0008": _seed_0008,
    "0009": _seed_0009,
    "0010": _seed_0010,
    "0011": _seed_0011,
    "0012": _seed_0012,
    "0014": _seed_0014,
    "0015": _seed_0014,  # triggers only (PostgreSQL): the same data
    "0016": _seed_0016,
    "0017": _seed_0017,
}


async def _table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def _set_version(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = :v"), {"v": revision})


async def test_migrate_brings_an_empty_database_to_head(engine: AsyncEngine) -> None:
    assert await current_revision(engine) is None

    revision = await migrate(engine)

    assert revision == head_revision()
    assert await current_revision(engine) == head_revision()
    assert {"unit", "secretary", "change_log", VERSION_TABLE} <= await _table_names(engine)


async def test_migrate_twice_changes_nothing(engine: AsyncEngine) -> None:
    await migrate(engine)
    sessions = session_maker(engine)
    async with sessions() as session:
        session.add(ChangeLog(at=NOW, actor=1, action="unit.add", detail={"unit": "x"}))
        await session.commit()

    assert await migrate(engine) == head_revision()

    async with sessions() as session:
        logs = (await session.exec(select(ChangeLog))).all()
    assert [log.detail for log in logs] == [{"unit": "x"}]


async def test_database_from_a_newer_bot_is_refused_and_left_unchanged(
    engine: AsyncEngine,
) -> None:
    await migrate(engine)
    async with session_maker(engine)() as session:
        session.add(ChangeLog(at=NOW, actor=1, action="unit.add", detail={}))
        await session.commit()
    await _set_version(engine, "9999_from_the_future")
    tables = await _table_names(engine)

    with pytest.raises(SchemaTooNew) as refused:
        await migrate(engine)

    assert refused.value.found == "9999_from_the_future"
    assert refused.value.known_head == head_revision()
    assert "更新版本" in str(refused.value)
    assert await current_revision(engine) == "9999_from_the_future"
    assert await _table_names(engine) == tables
    async with session_maker(engine)() as session:
        assert len((await session.exec(select(ChangeLog))).all()) == 1


async def test_tables_made_outside_the_bot_are_refused_and_kept(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE unit (id INTEGER PRIMARY KEY, title TEXT)"))
        await conn.execute(sa.text("INSERT INTO unit (id, title) VALUES (1, '手工建的表')"))

    with pytest.raises(SchemaUnversioned) as refused:
        await migrate(engine)

    assert "unit" in str(refused.value)
    assert await current_revision(engine) is None
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT title FROM unit"))).all()
    assert [r[0] for r in rows] == ["手工建的表"]
    assert VERSION_TABLE not in await _table_names(engine)


async def test_other_applications_tables_do_not_block_migration(engine: AsyncEngine) -> None:
    """A PostgreSQL database shared with other NoneBot plugins keeps their tables."""
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        await conn.execute(sa.text("INSERT INTO alembic_version VALUES ('other_plugin_rev')"))

    assert await migrate(engine) == head_revision()

    async with engine.connect() as conn:
        other = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).all()
    assert [r[0] for r in other] == ["other_plugin_rev"]


def test_every_revision_has_upgrade_test_data() -> None:
    assert set(known_revisions()) == set(SEEDS)


@pytest.mark.parametrize("revision", known_revisions())
async def test_upgrade_from_each_revision_keeps_data(engine: AsyncEngine, revision: str) -> None:
    await migrate(engine, revision)
    async with engine.begin() as conn:
        await conn.run_sync(SEEDS[revision])

    assert await migrate(engine) == head_revision()

    async with session_maker(engine)() as session:
        unit = (await session.exec(select(Unit))).one()
        secretary = (await session.exec(select(Secretary))).one()
    assert (unit.name, unit.aliases, unit.created_at) == ("南湖街道", ["南湖"], NOW)
    assert (secretary.user_id, secretary.unit_id) == (4000000001, unit.id)


async def test_models_match_the_migrations(engine: AsyncEngine) -> None:
    """A model changed without a migration shows up here as a difference."""
    await migrate(engine)

    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return [
            d
            for d in compare_metadata(context, SQLModel.metadata)
            if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == VERSION_TABLE)
        ]

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_datetimes_come_back_timezone_aware_in_utc(engine: AsyncEngine) -> None:
    await migrate(engine)
    local = datetime(2027, 7, 1, 18, 0, tzinfo=timezone(timedelta(hours=8)))
    async with session_maker(engine)() as session:
        session.add(ChangeLog(at=local, action="unit.add", detail={}))
        await session.commit()

    async with session_maker(engine)() as session:
        log = (await session.exec(select(ChangeLog))).one()
    assert log.at == local
    assert log.at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(engine: AsyncEngine) -> None:
    await migrate(engine)
    async with session_maker(engine)() as session:
        session.add(ChangeLog(at=datetime(2027, 7, 1, 18, 0), action="unit.add", detail={}))
        with pytest.raises(StatementError, match="naive"):
            await session.commit()


async def test_foreign_keys_are_enforced(engine: AsyncEngine) -> None:
    await migrate(engine)
    async with session_maker(engine)() as session:
        session.add(Secretary(user_id=10001, unit_id=999, origin="chat", updated_at=NOW))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_qq_ids_beyond_32_bits_are_stored(engine: AsyncEngine) -> None:
    await migrate(engine)
    async with session_maker(engine)() as session:
        session.add(ChangeLog(at=NOW, actor=3_999_999_999, action="unit.add", detail={}))
        await session.commit()
    async with session_maker(engine)() as session:
        assert (await session.exec(select(ChangeLog))).one().actor == 3_999_999_999


async def test_sqlite_database_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "bot.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    assert path.is_file()


async def test_failed_upgrade_leaves_the_database_as_it_was(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_upgrade = bot.storage.db.command.upgrade

    def upgrade_then_fail(config: Config, revision: str) -> None:
        real_upgrade(config, revision)
        raise RuntimeError("power cut")

    monkeypatch.setattr(bot.storage.db.command, "upgrade", upgrade_then_fail)

    with pytest.raises(RuntimeError, match="power cut"):
        await migrate(engine)

    assert await current_revision(engine) is None
    assert not {"unit", "secretary", "change_log"} & await _table_names(engine)


# ---- 0010: the dashboard's quality scores become judges' scores on "quality" -----------------


def _scores_before_0010(conn: Connection) -> None:
    """Three entries' scores as the dashboard wrote them before judging had its own tables."""
    _seed_0002(conn)
    conn.execute(
        sa.text(
            "INSERT INTO entry (receipt, url, given_url, platform, platform_name, kind, unit_id,"
            " author, submitted_by, submitted_at, late, status, verify_status, flags, flagged)"
            " SELECT 2, 'https://weibo.com/1234567890/Def456', 'weibo.com/1234567890/Def456',"
            " 'weibo.com', '新浪微博', 'microblog', id, NULL, 4000000001, :t, false,"
            " 'withdrawn', 'pending', '[]', false FROM unit WHERE name = '南湖街道'"
        ),
        {"t": NOW},
    )
    rows = [
        (1, 20001, 8, "条理清楚", NOW),
        (1, 3_999_999_999, 1, None, NOW + timedelta(minutes=5)),
        (2, 20001, 10, '它\'s "好"；😀\n第二行', NOW + timedelta(days=1)),
    ]
    for receipt, judge, quality, comment, at in rows:
        conn.execute(
            sa.text(
                "INSERT INTO entry_score (receipt, judge_id, quality, comment, updated_at)"
                " VALUES (:r, :j, :q, :c, :t)"
            ),
            {"r": receipt, "j": judge, "q": quality, "c": comment, "t": at},
        )


async def test_upgrade_to_0010_keeps_every_quality_score_as_a_judges_score(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0009")
    async with engine.begin() as conn:
        await conn.run_sync(_scores_before_0010)

    await migrate(engine)

    async with session_maker(engine)() as session:
        moved = (await session.exec(select(JudgeScore).order_by(col(JudgeScore.id)))).all()
        kept = (await session.exec(select(EntryScore).order_by(col(EntryScore.id)))).all()
    assert [
        (s.receipt, s.judge_id, s.criterion, s.value, s.comment, s.updated_at) for s in moved
    ] == [
        (1, 20001, "quality", 8, "条理清楚", NOW),
        (1, 3_999_999_999, "quality", 1, None, NOW + timedelta(minutes=5)),
        (2, 20001, "quality", 10, '它\'s "好"；😀\n第二行', NOW + timedelta(days=1)),
    ]
    assert all(s.updated_at.tzinfo is not None for s in moved)
    assert [(s.receipt, s.judge_id, s.quality) for s in kept] == [
        (1, 20001, 8),
        (1, 3_999_999_999, 1),
        (2, 20001, 10),
    ]


async def test_upgrade_to_0010_with_no_scores_moves_nothing(engine: AsyncEngine) -> None:
    await migrate(engine, "0009")
    await migrate(engine)
    async with session_maker(engine)() as session:
        assert (await session.exec(select(JudgeScore))).all() == []


async def test_a_score_after_0010_updates_the_moved_one(engine: AsyncEngine) -> None:
    """The dashboard changing a score given before the upgrade: one row per criterion, still."""
    await migrate(engine, "0009")
    async with engine.begin() as conn:
        await conn.run_sync(_scores_before_0010)
    await migrate(engine)
    later = NOW + timedelta(days=2)

    await ScoreBook(session_maker(engine)).set(
        1, judge_id=20001, quality=9, comment="复评", now=later
    )

    async with session_maker(engine)() as session:
        mine = (
            await session.exec(
                select(JudgeScore).where(
                    col(JudgeScore.receipt) == 1, col(JudgeScore.judge_id) == 20001
                )
            )
        ).all()
    assert [(s.criterion, s.value, s.comment, s.updated_at) for s in mine] == [
        ("quality", 9, "复评", later)
    ]


@pytest.mark.parametrize("value", [0, 11])
async def test_a_judges_score_outside_one_to_ten_is_refused_by_the_database(
    engine: AsyncEngine, value: int
) -> None:
    await migrate(engine)
    async with engine.begin() as conn:
        await conn.run_sync(_seed_0002)
    async with session_maker(engine)() as session:
        session.add(
            JudgeScore(receipt=1, judge_id=20001, criterion="quality", value=value, updated_at=NOW)
        )
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_one_score_per_entry_judge_and_criterion(engine: AsyncEngine) -> None:
    await migrate(engine)
    async with engine.begin() as conn:
        await conn.run_sync(_seed_0002)
    sessions = session_maker(engine)
    async with sessions() as session:
        for criterion in ("quality", "views"):
            session.add(
                JudgeScore(receipt=1, judge_id=20001, criterion=criterion, value=5, updated_at=NOW)
            )
        await session.commit()
    async with sessions() as session:
        session.add(
            JudgeScore(receipt=1, judge_id=20001, criterion="quality", value=6, updated_at=NOW)
        )
        with pytest.raises(IntegrityError):
            await session.commit()
