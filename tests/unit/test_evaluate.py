"""The evaluation: malformed files fail with one sentence; metrics on a tiny fake classifier."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from core.triage import Category, Classification, ClassifierUnavailable, CrisisHit
from nlu.evaluate import DatasetError, load_rows, metrics, predict, unmet


class KeywordClassifier:
    """Classifies by the first keyword found; 'down' makes the NLU unavailable."""

    RULES = (
        ("cerai", Category.KELUARGA, False),
        ("pinjol", Category.HUKUM, False),
        ("diet", Category.GIZI, False),
        ("cemas", Category.KESEHATAN_JIWA, False),
        ("mati", Category.KESEHATAN_JIWA, True),
    )

    async def classify(self, text: str) -> Classification:
        if "down" in text:
            raise ClassifierUnavailable("down")
        for word, category, crisis in self.RULES:
            if word in text:
                return Classification(category=category, crisis=crisis, confidence=0.9)
        return Classification(category=Category.LAINNYA, crisis=False, confidence=0.6)


class Lexicon:
    def screen(self, text: str) -> CrisisHit | None:
        return CrisisHit(classes=("violence",)) if "dipukul" in text else None


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "set.csv"
    path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "sentence"),
    [
        ("", "is empty"),
        ("text,category,crisis\n", "no rows"),
        ("text,category\nhalo,lainnya\n", "no column crisis"),
        ("kalimat,kategori,krisis\nhalo,lainnya,0\n", "no column text, category, crisis"),
        ("text,category,crisis\nhalo,olahraga,0\n", "line 2: unknown category 'olahraga'"),
        ("text,category,crisis\nhalo,lainnya,ya\n", "line 2: crisis must be 0 or 1"),
        ("text,category,crisis\nhalo,lainnya,0\n,gizi,0\n", "line 3: the text is empty"),
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, content: str, sentence: str) -> None:
    with pytest.raises(DatasetError, match=sentence):
        load_rows(write(tmp_path, content))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="cannot read"):
        load_rows(tmp_path / "nope.csv")


def test_cli_reports_a_malformed_file_in_one_sentence(tmp_path: Path) -> None:
    path = write(tmp_path, "text,category\nhalo,lainnya\n")
    result = CliRunner().invoke(app, ["nlu", "evaluate", str(path)])
    assert result.exit_code == 2
    assert "no column crisis" in result.output
    assert "Traceback" not in result.output


async def test_metrics_of_the_bot_path_on_a_fake_classifier(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "text,category,crisis\n"
        "mau cerai,keluarga,0\n"
        "saya dipukul suami karena mau cerai,keluarga,1\n"  # crisis from the lexicon alone
        "utang pinjol,hukum,0\n"
        "diet ketat,gizi,0\n"
        "pengen mati,kesehatan_jiwa,1\n"
        "cemas terus,kesehatan_jiwa,0\n"
        "makan karena cemas,gizi,0\n"  # wrong: predicted kesehatan_jiwa
        "server down,hukum,0\n"  # unknown counts as wrong
        "halo,lainnya,0\n",
    )
    rows = load_rows(path)
    predictions = await predict(rows, screener=Lexicon(), classifier=KeywordClassifier())
    report = metrics(rows, predictions)

    assert report["n"] == 9
    assert report["accuracy"] == round(7 / 9, 4)
    assert report["crisis_recall"] == 1.0
    assert report["crisis_precision"] == 1.0
    assert report["unavailable"] == 1
    confusion = report["confusion"]["gold_by_predicted"]
    assert confusion["hukum"] == {**dict.fromkeys(report["confusion"]["labels"], 0), "hukum": 1,
                                  "unknown": 1}  # fmt: skip
    assert confusion["gizi"]["kesehatan_jiwa"] == 1
    gizi = report["per_category"]["gizi"]
    assert (gizi["precision"], gizi["recall"], gizi["support"]) == (1.0, 0.5, 2)
    assert gizi["f1"] == round(2 * 0.5 / 1.5, 4)
    jiwa = report["per_category"]["kesehatan_jiwa"]
    assert (jiwa["precision"], jiwa["recall"]) == (round(2 / 3, 4), 1.0)
    hukum = report["per_category"]["hukum"]
    assert (hukum["precision"], hukum["recall"]) == (1.0, 0.5)
    f1s = [report["per_category"][c]["f1"] for c in ("keluarga", "hukum", "gizi",
                                                     "kesehatan_jiwa", "lainnya")]  # fmt: skip
    assert report["macro_f1"] == pytest.approx(sum(f1s) / 5, abs=1e-3)


async def test_thresholds_report_what_is_missed(tmp_path: Path) -> None:
    report = {"macro_f1": 0.85, "crisis_recall": 1.0, "crisis_precision": 0.7}
    missed = unmet(report, min_macro_f1=0.9, min_crisis_recall=1.0, min_crisis_precision=0.8)
    assert missed == [
        "macro_f1 0.8500 is below the required 0.9000",
        "crisis_precision 0.7000 is below the required 0.8000",
    ]
    assert unmet(report) == []


async def test_crisis_precision_counts_false_alarms(tmp_path: Path) -> None:
    path = write(
        tmp_path, "text,category,crisis\npengen mati lampu,lainnya,0\nmati,kesehatan_jiwa,1\n"
    )
    rows = load_rows(path)
    report = metrics(rows, await predict(rows, screener=Lexicon(), classifier=KeywordClassifier()))
    assert (report["crisis_recall"], report["crisis_precision"]) == (1.0, 0.5)
