#!/bin/bash
# CSV streaming at 10^6 rows, and MPI 1/2/4 ranks streaming from .npy (each rank reads its rows).
set -e
# bench/scale/mpi_csv_extra.sh [BUILD_DIR]: README "Scale" (CSV line) and "Running on a cluster".
cd "$(dirname "$0")/../.."
M="${1:-build}/mtif"
D=data/extra
rm -rf $D; mkdir -p $D
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
uptime
$M generate --tasks 100 --features 50 --rows 10000 --test-rows 50 --out-dir $D/csv -q
ls -la $D/csv
for i in 1 2; do
/usr/bin/time -f "csv_stream wall %e cpu_user %U cpu_sys %S rss_kb %M" $M influence --train $D/csv/train.csv --test $D/csv/test.csv --memory 2G --out $D/csv.npy --json $D/csv.json -q
python3 -c "import json; print(json.load(open('$D/csv.json'))['timings'])"
done
/usr/bin/time -f "csv_inmemory wall %e cpu_user %U cpu_sys %S rss_kb %M" $M influence --train $D/csv/train.csv --test $D/csv/test.csv --out $D/csvmem.npy -q
rm -f $D/csv.npy $D/csvmem.npy
/usr/bin/python3 bench/scale/gen_npy.py $D/npy --tasks 100 --rows 1000000 --features 50
for np in 1 2 4; do
 for i in 1 2; do
  /usr/bin/time -f "mpi np=$np wall %e rss_kb(rank0 launcher) %M" mpirun --oversubscribe -np $np $M influence --train-npy $D/npy/train --test-npy $D/npy/test --memory 1G --out $D/mpi$np.npy --json $D/mpi$np.json -q
  python3 -c "import json; print(json.load(open('$D/mpi$np.json'))['timings'])"
 done
done
/usr/bin/python3 -c "
import numpy as np
a=np.load('$D/mpi1.npy'); 
for n in (2,4):
    b=np.load('$D/mpi%d.npy'%n); print(n, 'identical' if (a==b).all() else 'max diff rel col max %.2e'%(np.abs(a-b)/np.abs(a).max(0)).max())
"
uptime
rm -rf $D
