"""Evaluation harness: run a model over a task, compute metrics, compare runs and write a report.

Written for the Z4Ai archive primer. A task is a list of examples with a prompt and a reference answer; a model
is any callable that maps a prompt to text, or a list of prompts to a list of texts. The harness batches the
prompts, retries failed calls, scores every answer with the task's metrics and writes the results as JSON lines
and a short Markdown report. Two result files can be compared with a paired bootstrap to see whether a
difference is larger than chance.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as _dt
import json
import logging
import math
import os
import random
import re
import statistics
import string
import sys
import time
import traceback
import unittest
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

log = logging.getLogger("evaluate")

Model = Callable[[List[str]], List[str]]
Metric = Callable[[str, "Example"], float]

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")


class Status(str, Enum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class Example:
    """One item of a task. ``answers`` holds every acceptable reference; ``meta`` is copied into the results."""

    id: str
    prompt: str
    answers: List[str]
    choices: Optional[List[str]] = None
    meta: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, record: Mapping[str, Any], index: int) -> "Example":
        if "prompt" not in record:
            raise ValueError(f"example {index} has no prompt")
        answers = record.get("answers", record.get("answer", []))
        if isinstance(answers, str):
            answers = [answers]
        return cls(
            id=str(record.get("id", index)),
            prompt=str(record["prompt"]),
            answers=[str(a) for a in answers],
            choices=record.get("choices"),
            meta={k: v for k, v in record.items() if k not in {"id", "prompt", "answer", "answers", "choices"}},
        )


@dataclass
class Result:
    example_id: str
    output: str
    scores: Dict[str, float]
    status: Status = Status.OK
    error: Optional[str] = None
    seconds: float = 0.0
    meta: Dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> Dict[str, Any]:
        record = asdict(self)
        record["status"] = self.status.value
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> "Result":
        return cls(
            example_id=str(record["example_id"]),
            output=record.get("output", ""),
            scores=dict(record.get("scores", {})),
            status=Status(record.get("status", "ok")),
            error=record.get("error"),
            seconds=float(record.get("seconds", 0.0)),
            meta=dict(record.get("meta", {})),
        )


def normalize_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces: the usual normalisation for short answers."""
    text = text.lower().translate(_PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(output: str, example: Example) -> float:
    guess = normalize_answer(output)
    return float(any(guess == normalize_answer(answer) for answer in example.answers))


def token_f1(output: str, example: Example) -> float:
    """The best word-overlap F1 between the output and any reference."""
    guess = normalize_answer(output).split()
    best = 0.0
    for answer in example.answers:
        reference = normalize_answer(answer).split()
        if not guess or not reference:
            best = max(best, float(guess == reference))
            continue
        common: Dict[str, int] = {}
        for word in guess:
            common[word] = common.get(word, 0) + 1
        overlap = 0
        for word in reference:
            if common.get(word, 0) > 0:
                overlap += 1
                common[word] -= 1
        if overlap == 0:
            continue
        precision = overlap / len(guess)
        recall = overlap / len(reference)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def numeric_match(output: str, example: Example, tolerance: float = 1e-6) -> float:
    """1 when the last number in the output equals a reference number within a relative tolerance."""
    found = _NUMBER.findall(output.replace(",", ""))
    if not found:
        return 0.0
    try:
        value = float(found[-1])
    except ValueError:
        return 0.0
    for answer in example.answers:
        try:
            expected = float(answer.replace(",", ""))
        except ValueError:
            continue
        if math.isclose(value, expected, rel_tol=tolerance, abs_tol=tolerance):
            return 1.0
    return 0.0


def choice_accuracy(output: str, example: Example) -> float:
    """For multiple-choice tasks: the first letter A, B, C... in the output picks a choice."""
    if not example.choices:
        raise ValueError(f"example {example.id} has no choices")
    match = re.search(r"\b([A-Z])\b", output.strip().upper())
    if match is None:
        return 0.0
    index = ord(match.group(1)) - ord("A")
    if not 0 <= index < len(example.choices):
        return 0.0
    return float(example.choices[index] in example.answers)


METRICS: Dict[str, Metric] = {
    "exact_match": exact_match,
    "f1": token_f1,
    "numeric": numeric_match,
    "choice": choice_accuracy,
}


@dataclass
class Task:
    name: str
    examples: List[Example]
    metrics: List[str] = field(default_factory=lambda: ["exact_match", "f1"])
    template: str = "{prompt}"

    def render(self, example: Example) -> str:
        choices = ""
        if example.choices:
            choices = "\n".join(f"{chr(ord('A') + i)}. {c}" for i, c in enumerate(example.choices))
        return self.template.format(prompt=example.prompt, choices=choices, **example.meta)

    @classmethod
    def load(cls, path: str, name: Optional[str] = None, metrics: Optional[List[str]] = None, limit: Optional[int] = None) -> "Task":
        examples: List[Example] = []
        with open(path, "r", encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                if limit is not None and len(examples) >= limit:
                    break
                line = line.strip()
                if line:
                    examples.append(Example.from_json(json.loads(line), index))
        unknown = [m for m in (metrics or []) if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metrics: {', '.join(unknown)}; known: {', '.join(sorted(METRICS))}")
        return cls(name or os.path.splitext(os.path.basename(path))[0], examples, metrics or ["exact_match", "f1"])


def batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def call_with_retries(model: Model, prompts: List[str], attempts: int = 3, backoff: float = 1.0) -> List[str]:
    """Call the model, retrying with exponential backoff; the last error is raised when every attempt fails."""
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            outputs = model(prompts)
            if len(outputs) != len(prompts):
                raise RuntimeError(f"model returned {len(outputs)} outputs for {len(prompts)} prompts")
            return outputs
        except Exception as error:  # the model is user code: any failure is retried, then reported
            if attempt == attempts:
                raise
            log.warning("attempt %d of %d failed: %s; retrying in %.1f s", attempt, attempts, error, delay)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def evaluate(task: Task, model: Model, batch_size: int = 8, workers: int = 1, attempts: int = 3) -> List[Result]:
    """Run the model over every example of the task and score the outputs."""
    metrics = [(name, METRICS[name]) for name in task.metrics]
    groups = list(batched(task.examples, batch_size))

    def run(group: Sequence[Example]) -> List[Result]:
        prompts = [task.render(e) for e in group]
        start = time.perf_counter()
        try:
            outputs = call_with_retries(model, prompts, attempts)
        except Exception as error:
            message = "".join(traceback.format_exception_only(type(error), error)).strip()
            return [Result(e.id, "", {}, Status.FAILED, message, meta=e.meta) for e in group]
        seconds = (time.perf_counter() - start) / max(len(group), 1)
        results = []
        for example, output in zip(group, outputs):
            scores = {name: metric(output, example) for name, metric in metrics}
            results.append(Result(example.id, output, scores, seconds=seconds, meta=example.meta))
        return results

    results: List[Result] = []
    if workers <= 1:
        for group in groups:
            results.extend(run(group))
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for chunk in pool.map(run, groups):
                results.extend(chunk)
    return results


def aggregate(results: Sequence[Result]) -> Dict[str, float]:
    """Mean of every score over the examples that ran, plus counts and timing."""
    ok = [r for r in results if r.status is Status.OK]
    summary: Dict[str, float] = {"examples": len(results), "ok": len(ok), "failed": len(results) - len(ok)}
    names = sorted({name for r in ok for name in r.scores})
    for name in names:
        values = [r.scores[name] for r in ok if name in r.scores]
        summary[name] = statistics.fmean(values) if values else 0.0
    if ok:
        summary["seconds_per_example"] = statistics.fmean(r.seconds for r in ok)
    return summary


def paired_bootstrap(a: Sequence[float], b: Sequence[float], samples: int = 10_000, seed: int = 0) -> Tuple[float, float]:
    """The mean difference b - a and the share of resamples in which b does not beat a (a one-sided p-value)."""
    if len(a) != len(b):
        raise ValueError("the two runs must score the same examples")
    if not a:
        return 0.0, 1.0
    rng = random.Random(seed)
    n = len(a)
    diffs = [y - x for x, y in zip(a, b)]
    observed = sum(diffs) / n
    worse = 0
    for _ in range(samples):
        total = 0.0
        for _ in range(n):
            total += diffs[rng.randrange(n)]
        if total <= 0:
            worse += 1
    return observed, worse / samples


def read_results(path: str) -> List[Result]:
    with open(path, "r", encoding="utf-8") as handle:
        return [Result.from_json(json.loads(line)) for line in handle if line.strip()]


def write_results(path: str, results: Iterable[Result]) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(result.to_json(), ensure_ascii=False, sort_keys=True))
            handle.write("\n")
    os.replace(temporary, path)


def markdown_report(task: Task, summary: Mapping[str, float], model_name: str) -> str:
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# {task.name}: {model_name}",
        "",
        f"Run {now} on {summary.get('examples', 0):.0f} examples ({summary.get('failed', 0):.0f} failed).",
        "",
        "| metric | value |",
        "| --- | ---: |",
    ]
    for key, value in summary.items():
        if key in {"examples", "ok", "failed"}:
            continue
        lines.append(f"| {key} | {value:.4f} |")
    return "\n".join(lines) + "\n"


def compare(path_a: str, path_b: str, metric: str) -> str:
    a = {r.example_id: r for r in read_results(path_a) if r.status is Status.OK}
    b = {r.example_id: r for r in read_results(path_b) if r.status is Status.OK}
    shared = sorted(set(a) & set(b))
    if not shared:
        return "the two runs have no successful example in common"
    left = [a[i].scores.get(metric, 0.0) for i in shared]
    right = [b[i].scores.get(metric, 0.0) for i in shared]
    delta, p = paired_bootstrap(left, right)
    verdict = "better" if delta > 0 and p < 0.05 else "worse" if delta < 0 and p > 0.95 else "not clearly different"
    return f"{metric}: {statistics.fmean(left):.4f} -> {statistics.fmean(right):.4f} ({delta:+.4f}, p = {p:.3f}): {verdict}"


class EchoModel:
    """A stand-in model for tests: answers with the last line of the prompt."""

    def __call__(self, prompts: List[str]) -> List[str]:
        return [p.strip().split("\n")[-1] for p in prompts]


class FlakyModel:
    """Fails on the first call, then behaves like the model it wraps."""

    def __init__(self, inner: Model) -> None:
        self.inner = inner
        self.calls = 0

    def __call__(self, prompts: List[str]) -> List[str]:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("simulated timeout")
        return self.inner(prompts)


class MetricTests(unittest.TestCase):
    def example(self, *answers: str, choices: Optional[List[str]] = None) -> Example:
        return Example("t", "prompt", list(answers), choices)

    def test_exact_match_ignores_case_punctuation_and_articles(self) -> None:
        self.assertEqual(exact_match("The Eiffel Tower.", self.example("eiffel tower")), 1.0)
        self.assertEqual(exact_match("Eiffel", self.example("eiffel tower")), 0.0)

    def test_f1_rewards_partial_overlap(self) -> None:
        score = token_f1("the tall eiffel tower", self.example("eiffel tower"))
        self.assertAlmostEqual(score, 0.8)

    def test_numeric_match_takes_the_last_number(self) -> None:
        self.assertEqual(numeric_match("first 3, so the answer is 1,024", self.example("1024")), 1.0)
        self.assertEqual(numeric_match("no number here", self.example("7")), 0.0)

    def test_choice_accuracy_reads_the_letter(self) -> None:
        example = self.example("Paris", choices=["Rome", "Paris", "Oslo"])
        self.assertEqual(choice_accuracy("B", example), 1.0)
        self.assertEqual(choice_accuracy("A. Rome", example), 0.0)
        self.assertEqual(choice_accuracy("Z", example), 0.0)

    def test_choice_accuracy_without_choices_raises(self) -> None:
        with self.assertRaises(ValueError):
            choice_accuracy("A", self.example("x"))


class HarnessTests(unittest.TestCase):
    def task(self) -> Task:
        examples = [Example(str(i), f"question {i}\n{i * 2}", [str(i * 2)]) for i in range(10)]
        return Task("doubling", examples, ["exact_match", "numeric"])

    def test_echo_model_scores_perfectly(self) -> None:
        summary = aggregate(evaluate(self.task(), EchoModel(), batch_size=3))
        self.assertEqual(summary["exact_match"], 1.0)
        self.assertEqual(summary["failed"], 0)

    def test_a_failing_call_is_retried(self) -> None:
        model = FlakyModel(EchoModel())
        results = evaluate(self.task(), model, batch_size=10, attempts=2)
        self.assertTrue(all(r.status is Status.OK for r in results))
        self.assertEqual(model.calls, 2)

    def test_results_survive_a_round_trip(self) -> None:
        import tempfile

        results = evaluate(self.task(), EchoModel())
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "results.jsonl")
            write_results(path, results)
            self.assertEqual([r.to_json() for r in read_results(path)], [r.to_json() for r in results])

    def test_bootstrap_sees_a_clear_improvement(self) -> None:
        delta, p = paired_bootstrap([0.0] * 50, [1.0] * 50, samples=500)
        self.assertEqual(delta, 1.0)
        self.assertLess(p, 0.01)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="evaluate the echo model on a task file (a smoke test of the harness)")
    run.add_argument("task")
    run.add_argument("--metrics", default="exact_match,f1")
    run.add_argument("--limit", type=int)
    run.add_argument("--batch-size", type=int, default=8)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("-o", "--output", default="results.jsonl")
    diff = sub.add_parser("compare", help="compare two result files")
    diff.add_argument("a")
    diff.add_argument("b")
    diff.add_argument("--metric", default="exact_match")
    sub.add_parser("test", help="run the unit tests")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    if args.command == "run":
        task = Task.load(args.task, metrics=args.metrics.split(","), limit=args.limit)
        results = evaluate(task, EchoModel(), args.batch_size, args.workers)
        write_results(args.output, results)
        summary = aggregate(results)
        print(markdown_report(task, summary, "echo"))
        return 0 if summary["failed"] == 0 else 1
    if args.command == "compare":
        print(compare(args.a, args.b, args.metric))
        return 0
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    outcome = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if outcome.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
