"""The report writer fed a fixed set of measurements: the table and the JSON must be exactly what the bash driver's
embedded report wrote for the same measurements (fixtures/, made by that script before it was replaced)."""

import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from keelbench import report  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MACHINE = "2 cores, Test CPU, 24.0 GiB, Linux 6.1"
SETUP = "wrk -t2 -c32 -d5s, warm-up 1s; 50 users, 500 articles, 2000 comments, 3000 favorites"


def load(peer_label: str, peer_rss_kb: int, baseline: str, setup: str, date: str) -> report.Run:
    run = report.Run(peer_label=peer_label, machine=MACHINE, setup=setup, date=date, conduit_rss_kb=81920,
                     peer_rss_kb=peer_rss_kb, baseline_revision=baseline)
    for line in (FIXTURES / "measurements.tsv").read_text().splitlines():
        label, target, requests, seconds, p50, p99, status_errors, socket_errors = line.split("\t")
        run.add(label, target, report.Measurement(int(requests), float(seconds), int(p50), int(p99), int(status_errors), int(socket_errors)))
    return run


def fixture_date(name: str) -> str:
    first = (FIXTURES / name).read_text().splitlines()[0]
    return first[len("Run "):first.index(" on ")]


class ReportTests(unittest.TestCase):
    def test_the_table_against_a_peer_with_a_baseline(self):
        run = load("Django", 409600, "abc1234", SETUP, fixture_date("report.md"))
        self.assertEqual(report.render(run) + "\n", (FIXTURES / "report.md").read_text())
        self.assertEqual(report.to_json(run), json.loads((FIXTURES / "report.json").read_text()))

    def test_the_table_without_a_peer(self):
        run = load("-", 0, "", "setup", fixture_date("report-no-peer.md"))
        self.assertEqual(report.render(run) + "\n", (FIXTURES / "report-no-peer.md").read_text())
        self.assertEqual(report.to_json(run), json.loads((FIXTURES / "report-no-peer.json").read_text()))

    def test_two_runs_of_one_target_average_requests_and_keep_the_worse_latencies(self):
        run = load("Django", 409600, "abc1234", SETUP, "d")
        baseline = run.rows["GET /plaintext"]["baseline"]
        self.assertAlmostEqual(baseline.rps, (600000 / 5 + 610000 / 5) / 2)
        self.assertEqual((baseline.p50, baseline.p99), (0.52, 2.1))
        self.assertEqual(report.to_json(run)["stack_share_of_bare"], round(128000 / 180000, 3))
        self.assertEqual(report.total_errors(run), 3)

    def test_the_audit_trail_cost_of_writes_is_reported_against_its_budget(self):
        run = load("Django", 409600, "abc1234", SETUP, "d")
        self.assertIsNone(report.audit_cost(run))
        run.add(report.WRITE_LABEL, "conduit", report.Measurement(4500, 5.0, 6000, 20000))
        run.add(report.WRITE_LABEL, "noaudit", report.Measurement(5000, 5.0, 5500, 18000, 1, 0))
        self.assertAlmostEqual(report.audit_cost(run), 0.1)
        text = report.render(run)
        self.assertIn("Audit trail on / off, `POST /api/articles (auth)`: 900 / 1,000 req/s, p99 20.0 / 18.0 ms: "
                      "the trail costs **10%** of write throughput (within the budget of 15%).", text)
        data = report.to_json(run)
        self.assertEqual(data["audit_cost_of_writes"]["share"], 0.1)
        self.assertEqual(data["audit_cost_of_writes"]["audit_off"]["errors"], 1)
        self.assertEqual(report.total_errors(run), 3 + 1)
        run.add(report.WRITE_LABEL, "noaudit", report.Measurement(7000, 5.0, 5500, 18000))
        self.assertIn("(OVER the budget of 15%)", report.render(run))

    def test_wrk_output_is_read_or_missing(self):
        measured = report.parse_wrk("Running 5s test\nBENCH_RESULT 1200 5.001 850 2400 3 1\n")
        self.assertEqual(measured, report.Measurement(1200, 5.001, 850, 2400, 3, 1))
        self.assertAlmostEqual(measured.rps, 1200 / 5.001)
        self.assertIsNone(report.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n"))

    def test_the_block_in_the_document_is_replaced_or_appended(self):
        document = f"# Performance\n\nbefore\n{report.BEGIN}\nold\n{report.END}\nafter\n"
        self.assertEqual(report.replace_block(document, "new"), f"# Performance\n\nbefore\n{report.BEGIN}\nnew\n{report.END}\nafter\n")
        self.assertEqual(report.replace_block("# P\n", "new"), f"# P\n\n## Latest run\n\n{report.BEGIN}\nnew\n{report.END}\n")


if __name__ == "__main__":
    unittest.main()


class CachedRunTests(unittest.TestCase):
    """`--cached` measures only what both sides cache: anonymous reads, never a signed-in row, a login or a write."""

    def test_only_anonymous_reads(self):
        from keelbench import driver
        self.assertTrue(driver.parse_arguments(["--cached"]).cached)
        self.assertFalse(driver.parse_arguments([]).cached)
        labels = [row[0] for row in driver.measured_endpoints(True)]
        self.assertEqual(labels, ["GET /api/articles", "GET /api/articles/:slug", "GET /api/articles/:slug/comments", "GET /api/tags"])
        self.assertTrue(all(not signed_in for _, _, _, signed_in in driver.measured_endpoints(True)))
        self.assertEqual(len(driver.measured_endpoints(False)), len(driver.ENDPOINTS))
