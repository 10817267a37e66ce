"""PyTorch goldens for RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, LBFGS and the lr schedules.

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_optim2_goldens.py

optim2.safetensors: each optimizer case runs 20 steps from fixed initial weights and stores the loss
before each step and every parameter after each step (`traj.<name>`, shape [20, ...]), with its own
x, y and initial weights in the case's dtype. The elementwise optimizers train a 4-5-2 tanh MLP on a
regression problem (mse loss) in float32. LBFGS runs in float64 on L2-regularized logistic
regression: its line search and stopping tests compare losses and directional derivatives, where
float32 near-ties could flip, and on a nonconvex problem its trajectory is chaotic (PyTorch's own,
from weights perturbed by 1e-13, departs by 1e-5 to 1 within 20 steps); on this strongly convex one
a 1e-13 perturbation stays below 1e-9.

optim2_lr.safetensors: each schedule case records every group's lr (and momentum for OneCycleLR)
after construction and after each step, in float64.
"""
import math
import re

import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler as S
from writer import Writer

torch.manual_seed(2026)
STEPS = 20


def snake(options):
    """camelCase option names as PyTorch's keyword arguments (tMax is CosineAnnealingLR's T_max)."""
    return {"T_max" if k == "tMax" else re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), k): v
            for k, v in options.items()}


def mlp_loss(params, x, y):
    w1, b1, w2, b2 = params
    return F.mse_loss(F.linear(torch.tanh(F.linear(x, w1, b1)), w2, b2), y)


def logreg_loss(params, x, labels):
    w, b = params
    return F.cross_entropy(F.linear(x, w, b), labels) + 0.05 * (w * w).sum()


def optimizers():
    w = Writer()
    x = torch.randn(16, 4)
    y = torch.stack([x[:, 0] * x[:, 1] - x[:, 2], torch.sin(x[:, 3]) + 0.5 * x[:, 0]], 1)
    init = [torch.randn(5, 4) * 0.5, torch.randn(5) * 0.1, torch.randn(2, 5) * 0.5, torch.randn(2) * 0.1]
    labels = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 0.5).long()
    problems = {
        "mlp": (mlp_loss, ["w1", "b1", "w2", "b2"], init, y),
        "logreg": (logreg_loss, ["w", "b"], [torch.randn(3, 4) * 0.5, torch.zeros(3)], labels),
    }
    configs = [
        ("rmsprop", "RMSprop", {}),
        ("rmsprop_centered_momentum_wd", "RMSprop", {"lr": 0.005, "momentum": 0.9, "centered": True, "weightDecay": 0.05}),
        ("rmsprop_momentum_alpha", "RMSprop", {"momentum": 0.5, "alpha": 0.9, "eps": 1e-6}),
        ("adagrad", "Adagrad", {}),
        ("adagrad_decay_wd_init", "Adagrad", {"lr": 0.1, "lrDecay": 0.01, "weightDecay": 0.1, "initialAccumulatorValue": 0.1, "eps": 1e-8}),
        ("adadelta", "Adadelta", {}),
        ("adadelta_rho_wd", "Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weightDecay": 0.1}),
        ("adamax", "Adamax", {}),
        ("adamax_betas_wd", "Adamax", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weightDecay": 0.1}),
        ("nadam", "NAdam", {}),
        ("nadam_betas_wd_decay", "NAdam", {"lr": 0.01, "betas": [0.8, 0.99], "weightDecay": 0.1, "momentumDecay": 0.01}),
        ("radam", "RAdam", {}),
        ("radam_beta2_wd", "RAdam", {"lr": 0.01, "betas": [0.9, 0.9], "weightDecay": 0.1}),
        ("lbfgs", "LBFGS", {}),
        ("lbfgs_strong_wolfe", "LBFGS", {"lineSearchFn": "strong_wolfe"}),
        ("lbfgs_strong_wolfe_short", "LBFGS", {"lineSearchFn": "strong_wolfe", "maxIter": 2, "historySize": 3}),
        ("lbfgs_lr_history", "LBFGS", {"lr": 0.5, "maxIter": 2, "maxEval": 3, "historySize": 2}),
        ("lbfgs_max_iter", "LBFGS", {"maxIter": 3}),
    ]
    for name, kind, opts in configs:
        problem = "logreg" if kind == "LBFGS" else "mlp"
        loss_fn, names, start, target = problems[problem]
        dtype = torch.float64 if kind == "LBFGS" else torch.float32
        xs, ys = x.to(dtype), (target.to(dtype) if target.is_floating_point() else target.int())
        params = [p.to(dtype).clone().requires_grad_(True) for p in start]
        opt = getattr(torch.optim, kind)(params, **snake(opts))
        losses, traj = [], [[] for _ in params]

        def closure():
            opt.zero_grad()
            loss = loss_fn(params, xs, target)
            loss.backward()
            return loss

        for _ in range(STEPS):
            if kind == "LBFGS":
                loss = opt.step(closure)
            else:
                loss = closure()
                opt.step()
            losses.append(loss.item())
            for i, p in enumerate(params):
                traj[i].append(p.detach().clone())
        assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0], (name, losses)
        w.case(name, kind, {"problem": problem, "options": opts}, x=xs, y=ys,
               losses=torch.tensor(losses, dtype=torch.float64),
               **{f"init.{n}": p.to(dtype) for n, p in zip(names, start)},
               **{f"traj.{n}": torch.stack(t) for n, t in zip(names, traj)})
    w.save("optim2.safetensors")


LAMBDAS = {
    "exp095": lambda e: 0.95 ** e,
    "inverse": lambda e: 1 / (e + 1),
    "stairs": lambda e: 0.9 ** (e // 3),
}


def make_scheduler(kind, opt, o):
    if kind == "LambdaLR":
        fns = [LAMBDAS[n] for n in o["lrLambda"]] if isinstance(o["lrLambda"], list) else LAMBDAS[o["lrLambda"]]
        return S.LambdaLR(opt, fns)
    if kind == "SequentialLR":
        children = [make_scheduler(c["kind"], opt, c["options"]) for c in o["schedulers"]]
        return S.SequentialLR(opt, children, milestones=o["milestones"])
    return getattr(S, kind)(opt, **snake(o))


def schedules():
    w = Writer()
    configs = [
        ("one_cycle", "OneCycleLR", "SGD", {"maxLr": 0.1, "totalSteps": 25}),
        ("one_cycle_three_phase_linear", "OneCycleLR", "Adam", {
            "maxLr": [0.1, 0.2], "epochs": 4, "stepsPerEpoch": 6, "pctStart": 0.25, "annealStrategy": "linear",
            "threePhase": True, "divFactor": 10.0, "finalDivFactor": 100.0, "baseMomentum": 0.8, "maxMomentum": 0.9}),
        ("one_cycle_no_momentum", "OneCycleLR", "SGD", {"maxLr": 0.3, "totalSteps": 30, "pctStart": 0.4, "cycleMomentum": False}),
        ("linear", "LinearLR", "SGD", {}),
        ("linear_factors", "LinearLR", "SGD", {"startFactor": 0.5, "endFactor": 0.1, "totalIters": 10}),
        ("exponential", "ExponentialLR", "SGD", {"gamma": 0.9}),
        ("multistep", "MultiStepLR", "SGD", {"milestones": [3, 7, 7, 12], "gamma": 0.5}),
        ("lambda", "LambdaLR", "SGD", {"lrLambda": "exp095"}),
        ("lambda_per_group", "LambdaLR", "SGD", {"lrLambda": ["inverse", "stairs"]}),
        ("sequential_warmup_cosine", "SequentialLR", "SGD", {"milestones": [5], "schedulers": [
            {"kind": "LinearLR", "options": {"startFactor": 0.1, "totalIters": 5}},
            {"kind": "CosineAnnealingLR", "options": {"tMax": 15}}]}),
        ("sequential_three", "SequentialLR", "SGD", {"milestones": [4, 10], "schedulers": [
            {"kind": "ExponentialLR", "options": {"gamma": 0.8}},
            {"kind": "StepLR", "options": {"stepSize": 3, "gamma": 0.5}},
            {"kind": "MultiStepLR", "options": {"milestones": [2, 5]}}]}),
        ("plateau", "ReduceLROnPlateau", "SGD", {"patience": 2, "factor": 0.5, "cooldown": 1, "threshold": 0.1, "minLr": 0.01}),
        ("plateau_max_abs", "ReduceLROnPlateau", "SGD", {"mode": "max", "thresholdMode": "abs", "threshold": 0.05,
                                                          "patience": 1, "minLr": [0.02, 0.001], "eps": 1e-3}),
    ]
    metrics = torch.tensor([1.0, 0.9, 0.85, 0.84, 0.86, 0.83, 0.7, 0.71, 0.72, 0.69, 0.695, 0.7, 0.5, 0.52, 0.51,
                            0.5, 0.49, 0.6, 0.6, 0.6, 0.3, 0.31, 0.32, 0.33, 0.34], dtype=torch.float64)
    for name, kind, opt_kind, o in configs:
        a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
        groups = [{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.05}]
        opt = torch.optim.SGD(groups, lr=0.1, momentum=0.9) if opt_kind == "SGD" else torch.optim.Adam(groups, lr=0.1)
        sched = make_scheduler(kind, opt, o)

        def momenta():
            return [g["betas"][0] if opt_kind == "Adam" else g["momentum"] for g in opt.param_groups]

        lrs, moms = [[g["lr"] for g in opt.param_groups]], [momenta()]
        steps = 25 if kind != "OneCycleLR" else sched.total_steps
        for i in range(steps):
            opt.step()
            if kind == "ReduceLROnPlateau":
                sched.step(metrics[i].item())
            else:
                sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
            moms.append(momenta())
        w.case(name, kind, {"optimizer": opt_kind, "options": o}, lrs=torch.tensor(lrs, dtype=torch.float64),
               momentum=torch.tensor(moms, dtype=torch.float64), metrics=metrics)
    w.save("optim2_lr.safetensors")


if __name__ == "__main__":
    optimizers()
    schedules()
