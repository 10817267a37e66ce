"""Writes test/fixtures/loss2.safetensors: PyTorch's regression, embedding, ranking, NLL and CTC losses
and cross-entropy's ignore_index / label_smoothing / spatial cases, for every reduction.

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_loss2_goldens.py

Each case stores its inputs, `out`, an upstream gradient `gout` and `grad_<leaf>` for every leaf
(grads are of sum(out * gout)). Options are stored in nodegrad's spelling, so a test passes them on.
CTC cases differentiate the logits through log_softmax (PyTorch's CTC backward assumes a log_softmax
input); `raw_grad_logp` keeps PyTorch's own gradient with respect to the log-probabilities.
"""
import torch
import torch.nn.functional as F
from writer import Writer

torch.manual_seed(2024)
d = torch.float64
w = Writer()
REDUCTIONS = ("mean", "sum", "none")


def case(name, kind, options, fn, leaves, plain=None):
    """leaves: differentiable inputs, fn's keywords; plain: the other stored tensors."""
    plain = plain or {}
    grads_of = {k: v.clone().requires_grad_(True) for k, v in leaves.items()}
    out = fn(**grads_of)
    gout = torch.randn_like(out)
    (out * gout).sum().backward()
    w.case(name, kind, options, **leaves, **plain, out=out, gout=gout,
           **{f"grad_{k}": v.grad for k, v in grads_of.items()})


def regression():
    x = torch.randn(4, 5, dtype=d)
    t = torch.randn(4, 5, dtype=d)
    t[0, :2] = x[0, :2]  # d = 0 exactly
    t[1, 0] = x[1, 0] - 0.5  # |d| = beta exactly
    for r in REDUCTIONS:
        for beta in (1.0, 0.5, 0.0):
            case(f"smoothl1_b{beta}_{r}", "smoothL1Loss", {"reduction": r, "beta": beta},
                 lambda x, target, beta=beta, r=r: F.smooth_l1_loss(x, target, reduction=r, beta=beta),
                 {"x": x * 2, "target": t * 2})
        for delta in (1.0, 1.5):
            case(f"huber_d{delta}_{r}", "huberLoss", {"reduction": r, "delta": delta},
                 lambda x, target, delta=delta, r=r: F.huber_loss(x, target, reduction=r, delta=delta),
                 {"x": x * 2, "target": t * 2})
    rate = torch.randn(3, 4, dtype=d)
    counts = torch.tensor([[0, 1, 2, 5], [3, 0, 1, 7], [1, 1, 4, 0]], dtype=d)
    for r in REDUCTIONS:
        case(f"poisson_log_{r}", "poissonNllLoss", {"reduction": r},
             lambda x, target, r=r: F.poisson_nll_loss(x, target, reduction=r), {"x": rate, "target": counts})
        case(f"poisson_rate_{r}", "poissonNllLoss", {"reduction": r, "logInput": False, "eps": 1e-4},
             lambda x, target, r=r: F.poisson_nll_loss(x, target, log_input=False, eps=1e-4, reduction=r),
             {"x": rate.abs() + 0.1, "target": counts})
        # Stirling's term has log(target): at target 0 its gradient is NaN in PyTorch, so target is plain.
        case(f"poisson_full_{r}", "poissonNllLoss", {"reduction": r, "full": True},
             lambda x, r=r: F.poisson_nll_loss(x, counts, full=True, reduction=r),
             {"x": rate}, {"target": counts})
    mu = torch.randn(4, 3, dtype=d)
    y = torch.randn(4, 3, dtype=d)
    var = torch.rand(4, 3, dtype=d) + 0.1
    var[0, 0] = 0.0  # below eps: clamped, the gradient passes straight through
    var[2, 1] = 1e-8
    for r in REDUCTIONS:
        case(f"gaussian_{r}", "gaussianNllLoss", {"reduction": r},
             lambda x, target, var, r=r: F.gaussian_nll_loss(x, target, var, reduction=r),
             {"x": mu, "target": y, "var": var})
        case(f"gaussian_full_eps_{r}", "gaussianNllLoss", {"reduction": r, "full": True, "eps": 1e-3},
             lambda x, target, var, r=r: F.gaussian_nll_loss(x, target, var, full=True, eps=1e-3, reduction=r),
             {"x": mu, "target": y, "var": var})
    case("gaussian_homoscedastic", "gaussianNllLoss", {"reduction": "mean"},
         lambda x, target, var: F.gaussian_nll_loss(x, target, var), {"x": mu, "target": y, "var": var[:, 2]})
    case("gaussian_var_last_1", "gaussianNllLoss", {"reduction": "sum"},
         lambda x, target, var: F.gaussian_nll_loss(x, target, var, reduction="sum"),
         {"x": mu, "target": y, "var": var[:, 1:2]})


def embedding():
    x1 = torch.randn(5, 4, dtype=d)
    x2 = torch.randn(5, 4, dtype=d)
    x2[1] = x1[1] * 0.5  # cos = 1
    y = torch.tensor([1, -1, -1, 1, -1])
    for r in REDUCTIONS:
        case(f"cosine_{r}", "cosineEmbeddingLoss", {"reduction": r, "margin": 0.1},
             lambda x1, x2, r=r: F.cosine_embedding_loss(x1, x2, y, margin=0.1, reduction=r),
             {"x1": x1, "x2": x2}, {"target": y.int()})
    case("cosine_1d", "cosineEmbeddingLoss", {"reduction": "mean"},
         lambda x1, x2: F.cosine_embedding_loss(x1, x2, torch.tensor(-1.0, dtype=d)),
         {"x1": x1[0], "x2": x2[0]}, {"target": torch.tensor(-1.0, dtype=d)})
    a = torch.randn(6, dtype=d)
    b = torch.randn(6, dtype=d)
    s = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, 1.0], dtype=d)
    for r in REDUCTIONS:
        case(f"ranking_{r}", "marginRankingLoss", {"reduction": r, "margin": 0.3},
             lambda x1, x2, target, r=r: F.margin_ranking_loss(x1, x2, target, margin=0.3, reduction=r),
             {"x1": a, "x2": b, "target": s})
    anchor, pos, neg = (torch.randn(5, 4, dtype=d) for _ in range(3))
    for r in REDUCTIONS:
        case(f"triplet_{r}", "tripletMarginLoss", {"reduction": r},
             lambda anchor, positive, negative, r=r: F.triplet_margin_loss(anchor, positive, negative, reduction=r),
             {"anchor": anchor, "positive": pos, "negative": neg})
        case(f"triplet_p1_swap_{r}", "tripletMarginLoss",
             {"reduction": r, "margin": 2.0, "p": 1, "swap": True, "eps": 1e-3},
             lambda anchor, positive, negative, r=r: F.triplet_margin_loss(
                 anchor, positive, negative, margin=2.0, p=1, eps=1e-3, swap=True, reduction=r),
             {"anchor": anchor, "positive": pos, "negative": neg})
    case("triplet_p3_swap", "tripletMarginLoss", {"reduction": "mean", "p": 3, "swap": True, "margin": 1.5},
         lambda anchor, positive, negative: F.triplet_margin_loss(anchor, positive, negative, p=3, swap=True, margin=1.5),
         {"anchor": anchor, "positive": pos, "negative": neg})
    z = torch.randn(4, 5, dtype=d) * 2
    z[0, 0] = 0.0
    labels = torch.randint(0, 2, (4, 5)).double()
    cw = torch.rand(5, dtype=d) + 0.3
    for r in REDUCTIONS:
        case(f"multilabel_{r}", "multilabelSoftMarginLoss", {"reduction": r},
             lambda x, r=r: F.multilabel_soft_margin_loss(x, labels, weight=cw, reduction=r),
             {"x": z}, {"target": labels, "weight": cw})
    case("multilabel_noweight", "multilabelSoftMarginLoss", {"reduction": "mean"},
         lambda x: F.multilabel_soft_margin_loss(x, labels), {"x": z}, {"target": labels})


def cross_entropy():
    cw = torch.rand(5, dtype=d) + 0.2
    logits = torch.randn(2, 5, 3, 4, dtype=d)
    t = torch.randint(0, 5, (2, 3, 4))
    t[0, 0, :3] = -1
    t[1, 2, 1] = -1
    for r in REDUCTIONS:
        case(f"ce_spatial_ignore_smooth_weight_{r}", "crossEntropy",
             {"reduction": r, "ignoreIndex": -1, "labelSmoothing": 0.15},
             lambda x, r=r: F.cross_entropy(x, t.long(), weight=cw, ignore_index=-1, label_smoothing=0.15, reduction=r),
             {"x": logits}, {"target": t.int(), "weight": cw})
        case(f"ce_spatial_ignore_smooth_{r}", "crossEntropy", {"reduction": r, "ignoreIndex": 3, "labelSmoothing": 0.3},
             lambda x, r=r: F.cross_entropy(x, t.long().clamp(min=0), ignore_index=3, label_smoothing=0.3, reduction=r),
             {"x": logits}, {"target": t.clamp(min=0).int()})
    everywhere = torch.full((2, 3), 4)
    for r in REDUCTIONS:
        case(f"ce_all_ignored_{r}", "crossEntropy", {"reduction": r, "ignoreIndex": 4, "labelSmoothing": 0.1},
             lambda x, r=r: F.cross_entropy(x, everywhere, weight=cw, ignore_index=4, label_smoothing=0.1, reduction=r),
             {"x": torch.randn(2, 5, 3, dtype=d)}, {"target": everywhere.int(), "weight": cw})
    case("ce_1d_ignored", "crossEntropy", {"reduction": "mean", "ignoreIndex": 2, "labelSmoothing": 0.2},
         lambda x: F.cross_entropy(x, torch.tensor(2), ignore_index=2, label_smoothing=0.2),
         {"x": torch.randn(5, dtype=d)}, {"target": torch.tensor(2).int()})
    case("ce_1d_smooth_weight", "crossEntropy", {"reduction": "mean", "labelSmoothing": 0.2},
         lambda x: F.cross_entropy(x, torch.tensor(1), weight=cw, label_smoothing=0.2),
         {"x": torch.randn(5, dtype=d)}, {"target": torch.tensor(1).int(), "weight": cw})
    probs = torch.softmax(torch.randn(2, 5, 3, 2, dtype=d), 1)
    for r in REDUCTIONS:
        case(f"ce_spatial_probs_{r}", "crossEntropy", {"reduction": r, "labelSmoothing": 0.25},
             lambda x, r=r: F.cross_entropy(x, probs, weight=cw, label_smoothing=0.25, reduction=r),
             {"x": torch.randn(2, 5, 3, 2, dtype=d)}, {"target": probs, "weight": cw})


def ctc():
    T, N, C, S = 12, 4, 6, 5
    logits = torch.randn(T, N, C, dtype=d)
    targets = torch.randint(1, C, (N, S))
    targets[1, 1] = targets[1, 0]  # a repeated label needs a blank between
    input_lengths = torch.tensor([12, 10, 12, 7])
    target_lengths = torch.tensor([5, 3, 0, 4])

    def ctc_case(name, options, targets, input_lengths, target_lengths, blank=0, zero_infinity=False, logits=logits):
        for r in REDUCTIONS:
            leaf = logits.clone().requires_grad_(True)
            logp = F.log_softmax(leaf, 2)
            logp.retain_grad()
            out = F.ctc_loss(logp, targets, input_lengths, target_lengths, blank=blank, reduction=r,
                             zero_infinity=zero_infinity)
            gout = torch.randn_like(out)
            (out * gout).sum().backward()
            w.case(f"{name}_{r}", "ctcLoss", {**options, "reduction": r}, logits=logits, targets=targets.int(),
                   input_lengths=input_lengths.int(), target_lengths=target_lengths.int(), out=out, gout=gout,
                   grad_logits=leaf.grad, raw_grad_logp=logp.grad)

    ctc_case("ctc_padded", {}, targets, input_lengths, target_lengths)
    concat = torch.cat([targets[i, : target_lengths[i]] for i in range(N)])
    ctc_case("ctc_concat", {}, concat, input_lengths, target_lengths)
    ctc_case("ctc_blank_last", {"blank": C - 1}, targets - 1, input_lengths, target_lengths, blank=C - 1)
    # Sample 1 needs 6 frames for labels a a b c (a blank between the a's) but has 4; sample 3 has 2 for 3 labels.
    impossible = targets.clone()
    impossible[1, :4] = torch.tensor([2, 2, 3, 4])
    short = torch.tensor([12, 4, 12, 2])
    lengths = torch.tensor([5, 4, 0, 3])
    ctc_case("ctc_zero_infinity", {"zeroInfinity": True}, impossible, short, lengths, zero_infinity=True)
    with torch.no_grad():
        logp = F.log_softmax(logits, 2)
        w.case("ctc_infinite", "ctcLoss", {"reduction": "none", "forwardOnly": True}, logits=logits,
               targets=impossible.int(), input_lengths=short.int(), target_lengths=lengths.int(),
               out=F.ctc_loss(logp, impossible, short, lengths, reduction="none"))


regression()
embedding()
cross_entropy()
ctc()
w.save("loss2.safetensors")
