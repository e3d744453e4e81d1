"""Names through the presidio extra: detection rate, false positives and latency.

Sentences are built from 24 templates (support tickets, e-mails, chat requests) with Faker
names from five locales (en_US, en_GB, de_DE, fr_FR, es_ES), and 60 name-free prompts that
look like what a gateway carries (coding, support, security questions) give the false
positives. A name counts as found when a PERSON finding covers it whole; a PERSON finding
that covers no planted name is a false positive. Needs the presidio extra and an English
spaCy pipeline package:

    .venv/bin/python bench/presidio_names.py [--model en_core_web_sm] [--n 500]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from faker import Faker

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.pii_presidio import PresidioNames
from tollhouse.guards.verdict import Scope

TEMPLATES = (
    "Please forward the invoice to {name} before Friday.",
    "{name} called about order 88123 and wants a refund.",
    "Can you draft a polite reply to {name}? They asked about shipping times.",
    "Meeting notes: {name} will own the migration, I review the rollout plan.",
    "Hi, this is {name}. My password reset link does not work.",
    "Summarise the complaint that {name} sent us yesterday.",
    "Write a birthday message for my colleague {name}.",
    "The contract was signed by {name} on behalf of the supplier.",
    "Translate this for {name}: the delivery is delayed by two days.",
    "Who approved the expense report? It says {name} in the audit log.",
    "Dear {name}, thank you for your application.",
    "Add {name} to the on-call rota for next week.",
    "Our new hire {name} starts Monday; prepare an onboarding checklist.",
    "Remind {name} that the quarterly report is due.",
    "I spoke with {name} and they agreed to the new price.",
    "Please book a table for two under the name {name}.",
    "Escalate ticket 4471 to {name} in the billing team.",
    "Write a short bio for our speaker {name}.",
    "{name} asked whether the API supports pagination.",
    "Send {name} the slides from this morning's session.",
    "Can you check if {name} has access to the staging database?",
    "The patient {name} needs a follow-up appointment.",
    "Log that {name} returned the laptop today.",
    "Compose an apology to {name} for the late delivery.",
)
BENIGN = (
    "How do I kill a python process that hangs?",
    "Explain the difference between a list and a tuple.",
    "Write a SQL query that counts orders per day.",
    "What is a good way to store passwords in a database?",
    "Summarise this changelog in three bullet points.",
    "My order arrived damaged, what are my options?",
    "How can I rotate an API key without downtime?",
    "Give me a regex that matches ISO dates.",
    "What does HTTP status 429 mean?",
    "Refactor this function to avoid the nested loops.",
    "Can you recommend a structure for a quarterly report?",
    "How do I reset my router to factory settings?",
    "Write unit tests for a function that parses CSV lines.",
    "What are common causes of a memory leak in Node?",
    "Draft a polite reminder that the invoice is overdue.",
    "Explain how TLS certificate pinning works.",
    "What is the capital gains tax treatment of stock options?",
    "How do I configure a cron job to run every five minutes?",
    "Translate 'the delivery is delayed' into Spanish.",
    "Why does my Docker build ignore the cache?",
    "Suggest names for a variable that holds a retry count.",
    "What's the time complexity of binary search?",
    "How should I respond to a customer asking for a refund after 60 days?",
    "Convert this JSON to YAML.",
    "List the steps to enable two-factor authentication.",
    "What is the difference between authentication and authorisation?",
    "Write a bash loop over all files ending in .log.",
    "How do I undo the last git commit but keep the changes?",
    "Explain what a race condition is with an example.",
    "Give me a checklist for a production deploy.",
    "How many vacation days do I have left?",
    "Write a haiku about autumn rain.",
    "What's the best way to paginate a REST API?",
    "Can you explain the offside rule in football?",
    "How long should I boil an egg for a soft yolk?",
    "Describe the lifecycle of a Kubernetes pod.",
    "What is a foreign key constraint?",
    "Help me write a cover letter for a data analyst role.",
    "Why is my CSS grid not centring the item?",
    "Outline a lesson plan about photosynthesis.",
    "How do I politely decline a meeting invitation?",
    "What is phishing and how do I recognise it?",
    "Explain gradient descent in simple terms.",
    "Write a function that validates an email address.",
    "How do I set environment variables in a systemd service?",
    "What's the difference between TCP and UDP?",
    "Our checkout page is slow; where should I start profiling?",
    "Generate five interview questions for a backend engineer.",
    "What does the error 'connection reset by peer' mean?",
    "Summarise the main points of the GDPR right to erasure.",
    "How do I merge two dictionaries in Python?",
    "Write a limerick about a cat who codes.",
    "What is a canary deployment?",
    "Plan a three-day itinerary for a city break.",
    "How do I read a file line by line in Go?",
    "What are the symptoms of dehydration?",
    "Explain the CAP theorem.",
    "Can you proofread this paragraph for grammar?",
    "How do I export a spreadsheet as CSV?",
    "Why does my test pass locally but fail in CI?",
)
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES")


def run(model: str, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    fakers = [Faker(locale) for locale in LOCALES]
    for i, fake in enumerate(fakers):
        fake.seed_instance(seed + i)
    detector = PresidioNames(frozenset({"PERSON"}), model, 0.5)
    false_hits = 0
    latencies: list[float] = []
    tally = {locale: [0, 0, 0] for locale in LOCALES}  # sentences, found whole, found in part
    for _ in range(n):
        locale = rng.randrange(len(LOCALES))
        name = fakers[locale].name()
        text = rng.choice(TEMPLATES).format(name=name)
        start = text.index(name)
        started = time.perf_counter()
        hits = detector.detect(text, Scope.USER, CallState())
        latencies.append((time.perf_counter() - started) * 1000)
        end = start + len(name)
        counts = tally[LOCALES[locale]]
        counts[0] += 1
        counts[1] += any(h.start <= start and h.end >= end for h in hits)
        counts[2] += any(h.start < end and h.end > start for h in hits)
        false_hits += sum(1 for h in hits if h.end <= start or h.start >= end)
    flagged = sum(1 for text in BENIGN if detector.detect(text, Scope.USER, CallState()))
    whole, part = sum(c[1] for c in tally.values()), sum(c[2] for c in tally.values())
    print(f"model {model}: {n} sentences with a name, {len(BENIGN)} without")
    print(f"names found whole: {whole / n:.1%}, at least in part: {part / n:.1%}")
    for locale, (total, w, p) in tally.items():
        print(f"  {locale}: whole {w / max(total, 1):.0%}, in part {p / max(total, 1):.0%} ({total})")
    print(f"PERSON findings beside the planted name: {false_hits}")
    print(f"name-free prompts flagged: {flagged}/{len(BENIGN)} ({flagged / len(BENIGN):.1%})")
    latencies.sort()
    p95 = latencies[int(0.95 * len(latencies))]
    print(f"latency per sentence: p50 {statistics.median(latencies):.2f} ms, p95 {p95:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default="en_core_web_sm")
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    run(args.model, args.n)


if __name__ == "__main__":
    main()
