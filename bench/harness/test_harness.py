"""Unit tests of the harness's parsing and reporting (stdlib unittest, no peers needed):

  /usr/bin/python3 -m unittest discover -s bench/harness -p 'test_*.py'
"""
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import parsers  # noqa: E402
import report  # noqa: E402
from spec import Benchmark, Group, Target, Variant  # noqa: E402

WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:18090/small.txt
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.77ms    2.10ms  21.85ms   84.88%
    Req/Sec    17.23k   382.44    17.62k    70.00%
  Latency Distribution
     50%    3.77ms
     75%    4.72ms
     90%    6.79ms
     99%   12.27ms
  17350 requests in 1.01s, 5.59MB read
Requests/sec:  17168.20
Transfer/sec:      5.53MB
"""


def rec(impl, metric, value, **params):
    return {"bench": "b", "impl": impl, "params": params, "metric": metric, "value": value, "unit": "1/s",
            "run": 1, "placement": "server cpu 0, client cpu 1"}


class ParserTests(unittest.TestCase):
    def test_json_lines_keep_valid_records_and_report_the_rest(self):
        text = "\n".join([
            "a human line",
            '{"bench": "b", "impl": "i", "params": {"c": 1}, "metric": "m", "value": 2, "unit": "u"}',
            '{"bench": "b", "impl": "i", "params": {}, "metric": "m", "value": NaN, "unit": "u"}',
            '{"bench": "b", "impl": "i", "params": [], "metric": "m", "value": 1, "unit": "u"}',
            '{"bench": "b", "impl": "i", "metric": "m", "value": 1, "unit": "u"}',
            '{"truncated": ',
        ])
        records, problems = parsers.parse_json_lines(text)
        self.assertEqual(records, [{"bench": "b", "impl": "i", "params": {"c": 1}, "metric": "m", "value": 2.0,
                                    "unit": "u"}])
        self.assertEqual(len(problems), 4)

    def test_wrk_text_becomes_records(self):
        records, problems = parsers.parse_wrk(WRK_OUTPUT, "http_keepalive", "wrk", {"connections": 64})
        by_metric = {r["metric"]: r["value"] for r in records}
        self.assertEqual(problems, [])
        self.assertAlmostEqual(by_metric["req_per_s"], 17168.20)
        self.assertEqual(by_metric["requests"], 17350)
        self.assertAlmostEqual(by_metric["latency_p50_us"], 3770.0)
        self.assertAlmostEqual(by_metric["latency_p99_us"], 12270.0)

    def test_wrk_errors_are_reported(self):
        text = WRK_OUTPUT + "  Socket errors: connect 0, read 3, write 0, timeout 0\n"
        _, problems = parsers.parse_wrk(text, "b", "wrk", {})
        self.assertEqual(len(problems), 1)
        self.assertEqual(parsers.parse_wrk("wrk: usage", "b", "wrk", {})[0], [])

    def test_curl_speed(self):
        records, problems = parsers.parse_curl("67108864 0.080000 200\n", "http_body", "curl", {"path": "/big.bin"})
        self.assertEqual(problems, [])
        self.assertAlmostEqual(records[0]["value"], 67108864 / 0.08 / 1e6)
        self.assertEqual(parsers.parse_curl("100 0.1 404\n", "b", "curl", {})[0], [])


class ReportTests(unittest.TestCase):
    def test_medians_and_ratio_table(self):
        raw = [rec("raw-epoll", "rt", v, c=1) for v in (100, 90, 110)] + \
              [rec("squall-epoll", "rt", v, c=1) for v in (80, 95, 85)]
        meds = report.medians(raw)
        self.assertEqual({(m["impl"], m["value"], m["n"]) for m in meds},
                         {("raw-epoll", 100, 3), ("squall-epoll", 85, 3)})
        bench = Benchmark(name="x", description="d", ratios=[("squall-epoll", "raw-epoll")],
                          groups=[Group("g", [Variant("raw-epoll", ["a"]), Variant("squall-epoll", ["b"])])])
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "latest.jsonl"
            report.append_jsonl(path, "x", "run-1", raw, meds, [("libuv", "not built")], [])
            report.append_jsonl(path, "x", "run-2", raw[:1], report.medians(raw[:1]), [], [])
            latest = report.load_latest(path)
            self.assertEqual({l["run_id"] for l in latest["x"]}, {"run-2"})
            report.append_jsonl(path, "x", "run-3", raw, meds, [("libuv", "not built")], [])
            md = report.markdown(report.load_latest(path), {"x": bench})
        self.assertIn("| params | raw-epoll | squall-epoll | squall-epoll / raw-epoll |", md)
        self.assertIn("| c=1 | 100.0 | 85.0 | 0.85 |", md)
        self.assertIn("- libuv: not built", md)

    def test_scale_params_share_a_row(self):
        raw = [rec("a", "m", 1.0, messages=1000, w="p"), rec("b", "m", 2.0, messages=100, w="p")]
        bench = Benchmark(name="x", description="d", scale_params=["messages"], groups=[])
        lines = [m | {"run_id": "r", "suite": "x"} for m in report.medians(raw)]
        (title, header, rows, _), = report.tables("x", lines, bench)
        self.assertEqual(rows, [["w=p", "1", "2"]])

    def test_plot_panels_ratios_targets_and_no_squall_only_panels(self):
        raw = [rec("raw-epoll", "cpu_us_per_op", 2.0, c=1), rec("squall-epoll", "cpu_us_per_op", 2.2, c=1),
               rec("squall-uring", "cpu_us_per_op", 1.1, c=1),
               rec("squall-epoll", "allocs_per_op", 7.0, c=1), rec("squall-uring", "allocs_per_op", 7.0, c=1)]
        bench = Benchmark(name="x", description="d", groups=[], targets=[Target("b", "cpu_us_per_op", "raw-epoll", 1.1)])
        lines = [m | {"run_id": "r", "suite": "x"} for m in report.medians(raw)]
        ps = report.panels("x", lines, bench)
        self.assertEqual([p["metric"] for p in ps], ["cpu_us_per_op"])  # allocs: squall alone, no panel
        p = ps[0]
        self.assertEqual(p["pairs"], [("squall-epoll", "raw-epoll"), ("squall-uring", "raw-epoll"),
                                      ("squall-uring", "squall-epoll")])
        self.assertEqual([round(r, 3) for r in p["ratios"][0]], [1.1, 0.55, 0.5])
        self.assertEqual(p["targets"], [1.1, 1.1, None])
        self.assertTrue(report.lower_is_better("cpu_us_per_op"))
        self.assertFalse(report.lower_is_better("req_per_s"))
        self.assertNotEqual(report.color("squall-epoll"), report.color("squall-uring"))


if __name__ == "__main__":
    unittest.main()
