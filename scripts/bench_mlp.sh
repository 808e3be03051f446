#!/usr/bin/env bash
# Fashion-MNIST benchmarks of the shared-bottom network (issue 3), results in bench/results/:
#   mlp_agreement.json  solvers vs the exact block solve; scores vs warm-started LOO and LDS
#   mlp_speed.json      EK-FAC scores of all 60,000 rows x 10 tasks vs one training epoch
# Needs the data (scripts/fetch_data.sh) and a build with LibTorch and benchmarks:
#   scripts/build.sh -DMTIF_BUILD_BENCH=ON
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d data/fashion-mnist ] || scripts/fetch_data.sh
bin=build/bench/mtif_bench_mlp
[ -x "$bin" ] || scripts/build.sh -DMTIF_BUILD_BENCH=ON
echo "load before: $(uptime)" >&2
/usr/bin/time -v "$bin" speed --out bench/results/mlp_speed.json 2> >(grep -E "Maximum resident|Elapsed|epoch" >&2)
"$bin" agreement --lds-subsets 40 --out bench/results/mlp_agreement.json
echo "load after: $(uptime)" >&2
