"""Writes trainSEED.csv / testSEED.csv into the current folder: 5 tasks x 5 features,
20-60 logistic rows per task with three labels flipped per task, the rows of all tasks
interleaved. Issue 13's case: leave-one-out refits on such data used to stop with
"did not converge" (seeds 7 and 20 of 1-40) when Armijo compared objectives equal to rounding."""
import numpy as np, sys
seed=int(sys.argv[1]); rng=np.random.default_rng(seed)
K,d=5,5
w=rng.normal(size=d)
rows=[]
for k in range(K):
    n=rng.integers(20,61); wk=w+0.5*rng.normal(size=d)
    X=rng.normal(size=(n,d)); p=1/(1+np.exp(-X@wk)); y=(rng.random(n)<p).astype(int)
    flip=rng.choice(n,3,replace=False); y[flip]=1-y[flip]
    rows+= [(f"t{k}",y[i],*X[i]) for i in range(n)]
rng.shuffle(rows)
def write(fn,rs):
    with open(fn,'w') as f:
        f.write("task,y,"+",".join(f"x{j}" for j in range(d))+"\n")
        for r in rs: f.write(",".join(str(v) for v in r)+"\n")
write(f"train{seed}.csv",rows)
test=[]
for k in range(K):
    X=rng.normal(size=(20,d)); y=(rng.random(20)<0.5).astype(int)
    test+=[(f"t{k}",y[i],*X[i]) for i in range(20)]
write(f"test{seed}.csv",test)
