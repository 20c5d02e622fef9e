"""The pipeline benchmark's pieces on tiny inputs: statistics, reply correlation, scripts."""

from __future__ import annotations

from bench.conversations import CONCERNS, Updates, concern_for, script, texts
from bench.pipeline import parse
from bench.reference import as_message
from bench.stats import (
    Posted,
    Sent,
    buttons_of,
    correlate,
    latency_summary,
    percentile,
    ratios,
    unanswered,
)


def test_percentiles_use_the_nearest_rank() -> None:
    values = [0.010 * n for n in range(1, 101)]  # 10 ms .. 1000 ms
    assert percentile(values, 50) == values[49]
    assert percentile(values, 95) == values[94]
    assert percentile(values, 99) == values[98]
    assert percentile([0.5], 99) == 0.5
    assert percentile([], 50) is None


def test_latency_summary_is_in_milliseconds() -> None:
    summary = latency_summary([0.002, 0.004, 0.100], "reply")
    assert summary == {
        "reply_n": 3,
        "reply_p50_ms": 4.0,
        "reply_p95_ms": 100.0,
        "reply_p99_ms": 100.0,
        "reply_max_ms": 100.0,
    }
    assert latency_summary([], "x")["x_p50_ms"] is None


def test_each_update_takes_the_first_later_reply_of_its_chat() -> None:
    posted = [Posted(1, 10.0, None), Posted(2, 10.5, None), Posted(1, 12.0, None)]
    sent = [
        Sent(1, 9.0, ()),  # before anything was posted: belongs to nothing
        Sent(2, 10.6, ()),
        Sent(1, 10.2, ()),
        Sent(1, 12.3, ()),
    ]
    assert [round(x, 3) for x in correlate(posted, sent)] == [0.2, 0.1, 0.3]


def test_a_reply_with_the_expected_buttons_is_preferred_over_an_earlier_one() -> None:
    # Crisis: the safety message arrives first; the category question (cat: buttons) second.
    posted = [Posted(7, 1.0, "cat:")]
    sent = [Sent(7, 1.1, ()), Sent(7, 2.0, ("cat:keluarga", "cat:hukum"))]
    assert [round(x, 3) for x in correlate(posted, sent)] == [1.0]


def test_a_missing_reply_is_counted_not_invented() -> None:
    posted = [Posted(1, 1.0, None), Posted(1, 2.0, "q:age:")]
    sent = [Sent(1, 1.5, ())]
    assert len(correlate(posted, sent)) == 1
    assert unanswered(posted, sent) == 1


def test_buttons_of_reads_the_recorded_inline_keyboard() -> None:
    markup = {
        "inline_keyboard": [
            [{"text": "Setuju", "callback_data": "consent:yes:id"}],
            [{"text": "Tidak", "callback_data": "consent:no:id"}],
        ]
    }
    assert buttons_of(markup) == ("consent:yes:id", "consent:no:id")
    assert buttons_of(None) == ()


def test_ratios_divide_each_app_by_each_reference() -> None:
    results = {
        "app_sqlite": {"updates_per_s": 300.0},
        "app_postgresql": {"updates_per_s": 150.0},
        "ref_echo": {"updates_per_s": 600.0},
        "ref_rasa": {"updates_per_s": 0},
    }
    assert ratios(results) == {
        "app_sqlite/ref_echo": 0.5,
        "app_sqlite/ref_rasa": None,
        "app_postgresql/ref_echo": 0.25,
        "app_postgresql/ref_rasa": None,
    }


def test_a_conversation_has_ten_updates_and_every_twelfth_asn_is_in_crisis() -> None:
    steps = script(0)
    assert [s.kind for s in steps].count("message") == 5
    assert steps[0].value == "/start" and steps[1].value == "consent:yes:id"
    assert steps[3].value == f"cat:{CONCERNS[0][1]}"
    assert len(steps) == 10 and not any(s.answered for s in steps[7:])
    crisis = [i for i in range(24) if "mengakhiri hidup" in concern_for(i)[0]]
    assert crisis == [11, 23]
    assert len(texts(3)) == 15


def test_updates_look_like_telegram_posts_them() -> None:
    updates = Updates(bot_id=1111)
    message = updates.message(42, "/start")
    assert message["update_id"] == 1
    assert message["message"]["entities"][0]["type"] == "bot_command"
    callback = updates.callback(42, "cat:gizi")
    assert callback["update_id"] == 2
    assert callback["callback_query"]["message"]["chat"]["id"] == 42
    assert callback["callback_query"]["data"] == "cat:gizi"


def test_the_rasa_reference_gets_button_presses_as_intents() -> None:
    steps = script(1)
    assert [as_message(s) for s in steps[:4]] == [
        "/start",
        "/consent",
        CONCERNS[1][0],
        "/choose_category",
    ]


def test_quick_mode_means_twenty_asn() -> None:
    assert parse(["--quick"]).clients == 20
    assert parse([]).clients == 200
    assert parse(["--quick", "--clients", "3"]).clients == 3
