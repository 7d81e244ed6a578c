#!/usr/bin/env bash
# The peer comparison: the same M/M/8 model (rho 0.8, exponential service of mean 1 s, 10^6
# customers) in ecsim, through `ecsim run` on benches/peer/mmc.toml, and in SimPy, by
# benches/peer/mmc_simpy.py in a virtualenv with the pinned benches/peer/requirements.txt.
# Prints each one's mean wait against Erlang C, its wall time, and the ratio of wall times.
# The machine's speed drifts within minutes, so the two sides are measured in turns: three
# rounds, each the fastest of three ecsim runs then one SimPy run, and the ratio of each round;
# the median round's ratio is the result (a slow spell then slows both sides of a round alike).
#
#   bash benches/peer/compare.sh            (from the repository root; needs python3 with venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/peer-venv
if ! [ -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r benches/peer/requirements.txt
fi
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

best() { sort -g | head -1; }

ecsim_run() {
  python3 -c 'import subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - t)' ./target/release/ecsim run benches/peer/mmc.toml --out "$out/mmc"
}

ecsim_walls=()
simpy_walls=()
for _ in 1 2 3; do
  ecsim_walls+=("$( (ecsim_run; ecsim_run; ecsim_run) | best)")
  "$venv/bin/python" benches/peer/mmc_simpy.py 1 > "$out/simpy.txt"
  simpy_walls+=("$(sed -n 's/^wall_s=//p' "$out/simpy.txt")")
done
read -r ecsim_customers ecsim_wait < <(python3 - "$out/mmc/summary.csv" <<'PY'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
print(row["requests"], float(row["mean_wait_ms"]) / 1000.0)
PY
)
simpy_wait=$(sed -n 's/^mean_wait_s=//p' "$out/simpy.txt")
simpy_customers=$(sed -n 's/^customers=//p' "$out/simpy.txt")
erlang=$(sed -n 's/^erlang_c_wait_s=//p' "$out/simpy.txt")

python3 - "$erlang" "$ecsim_customers" "$ecsim_wait" "$simpy_customers" "$simpy_wait" \
  "${ecsim_walls[*]}" "${simpy_walls[*]}" <<'PY'
import statistics, sys
erlang, ec, ew, sc, sw, ets, sts = sys.argv[1:]
erlang, ew, sw = map(float, (erlang, ew, sw))
ets, sts = [float(x) for x in ets.split()], [float(x) for x in sts.split()]
ratios = [s / e for e, s in zip(ets, sts)]
k = ratios.index(statistics.median(ratios))
et, st = ets[k], sts[k]
print(f"Erlang C mean wait: {erlang:.4f} s")
print(f"rounds (ecsim s, SimPy s, ratio): " + ", ".join(f"{e:.3f} {s:.2f} {r:.1f}x" for e, s, r in zip(ets, sts, ratios)))
print(f"ecsim:  {int(ec):>8} customers, mean wait {ew:.4f} s ({100 * (ew / erlang - 1):+.2f}%), wall {et:.3f} s, {int(ec) / et:,.0f} customers/s")
print(f"SimPy:  {int(sc):>8} customers, mean wait {sw:.4f} s ({100 * (sw / erlang - 1):+.2f}%), wall {st:.3f} s, {int(sc) / st:,.0f} customers/s")
print(f"ratio (SimPy wall / ecsim wall), median round: {ratios[k]:.1f}x")
PY
