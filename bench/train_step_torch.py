"""PyTorch reference for bench/train-step.ts: the same CCT step (N ResNet-18s, one Adam, joint loss).

Run by the TypeScript bench with the same thread count; prints one JSON line.
Needs Debian's python3-torch (see bench/README.md): apt-get install python3-torch
"""
import json
import sys
import time

import torch
import torch.nn.functional as F
import torchvision_free_resnet as rn  # noqa: E402  (local module next to this file)

members, size, batch, steps, threads = (int(a) for a in sys.argv[1:6])
torch.set_num_threads(threads)
torch.manual_seed(0)
nets = [rn.resnet18(num_classes=7) for _ in range(members)]
params = [p for n in nets for p in n.parameters()]
opt = torch.optim.Adam(params, lr=1e-3)
x = torch.randn(batch, 3, size, size)
y = torch.arange(batch) % 7
lam = 0.5


def step():
    logits = [n(x) for n in nets]
    logp = [F.log_softmax(z, dim=1) for z in logits]
    sup = sum(F.nll_loss(lp, y) for lp in logp)
    cons = 0
    for k in range(members):
        for j in range(members):
            if j != k:
                cons = cons + (logp[k].exp() * (logp[k] - logp[j])).sum(1).mean()
    loss = (1 - lam) * sup + lam * cons
    opt.zero_grad()
    loss.backward()
    opt.step()


step()
times = []
for _ in range(steps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
times.sort()


def forward():
    with torch.no_grad():
        for n in nets:
            n.eval()
            n(x)
            n.train()


forward()
fwd = []
for _ in range(steps):
    t0 = time.perf_counter()
    forward()
    fwd.append(time.perf_counter() - t0)
fwd.sort()
print(
    json.dumps(
        {
            "engine": f"pytorch {torch.__version__}",
            "threads": threads,
            "median_s": times[len(times) // 2],
            "forward_median_s": fwd[len(fwd) // 2],
            "times_s": times,
        }
    )
)
