"""ember <-> PyTorch parity: the same samples from the same latents, both ways, and the same
VAE training loss on the same batch.

    /usr/bin/python3 tests/interop/parity.py build/ember      (needs torch; build/interop-vae-step
                                                               beside the tool: `make interop`)

In a temporary folder, for the VAE (mlp, 784-400-20), the DCGAN and the conditional GAN:
  ember -> torch   trained briefly by ember on its built-in sprites, exported as safetensors
                   (the whole model, and the sampler part), loaded by python/ember_torch.py; its
                   decode/generate on ember's --save-z latents against ember's --save-x.
  torch -> ember   a twin with PyTorch's initialisation (BatchNorm statistics made non-trivial),
                   written with to_safetensors (model and sampler part), `ember import`ed, sampled
                   by ember from the same latents (--z); also a file without metadata imported
                   with the architecture flags and a --names map, and a BF16 file.
  loss             one training step of the VAE (tests/interop/vae-step.cpp) against the twin's
                   loss with the eps ember drew.
More architectures (conv AE, learned-variance VAE, MLP GANs on images and points, InfoGAN with
mbstd and a code prior, MLP cGAN) go the torch -> ember way; the classifier both ways through
`ember eval`'s loss on an IDX set written here; and the Python readers must refuse broken files. One line per check; exit status 1 when any fails.
"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import torch  # noqa: E402

import ember_torch as et  # noqa: E402

SAMPLE_TOL = 1e-5   # max |difference| of samples in [0, 1]
LOSS_TOL = 1e-4     # relative difference of the one-step loss
N = 24              # samples per check: three rows of ember's default 8-wide grid
SPRITES = ["--data", "sprites", "--sprites-train", "512", "--sprites-test", "64", "--epochs", "1",
           "--no-pictures", "--threads", "1", "--force"]


class Parity:
    def __init__(self, ember, tmp):
        self.ember, self.tmp = ember, tmp
        self.passed, self.failed = 0, 0

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, *args):
        r = subprocess.run([self.ember] + [str(a) for a in args], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("ember %s: %s" % (" ".join(map(str, args)), (r.stderr or r.stdout).strip()))
        return r.stdout

    def report(self, ok, what, figure):
        self.passed, self.failed = self.passed + ok, self.failed + (not ok)
        print("%-4s %-58s %s" % ("ok" if ok else "FAIL", what, figure), flush=True)

    def close(self, what, got, want, tol=SAMPLE_TOL):
        if got.shape != want.shape:
            return self.report(False, what, "shapes %s and %s" % (list(got.shape), list(want.shape)))
        diff = (got - want).abs().max().item() if got.numel() else 0.0
        self.report(diff <= tol, what, "max|diff| %.2e" % diff)

    def attempt(self, what, fn):
        """A check whose set-up may fail (an ember command refusing): counted as failed."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001 (any failure is a failed check, reported)
            self.report(False, what, "error: %s" % str(e).splitlines()[0][:200])

    def ember_samples(self, model, z, label=None):
        """ember's samples of model for the latents z (a tensor), via --z / --save-x."""
        zf, xf = self.path("z-in.npy"), self.path("x-out.npy")
        et.save_npy(zf, z)
        self.run("sample", "--model", model, "--z", zf, "--save-x", xf, "--threads", "1",
                 *(["--label", label] if label is not None else []))
        return et.load_npy(xf)


def draw(twin, z):
    return twin.decode(z) if isinstance(twin, et.Autoencoder) else twin.generate(z)


def ember_to_torch(p, name, train_args, labels=(None,)):
    """Trains with ember, exports (model and sampler part) and compares the twin's samples."""
    model = p.path(name + ".ember")
    p.run("train", *train_args, *SPRITES, "--out", model)
    zf, xf = p.path(name + "-z.npy"), p.path(name + "-x.npy")
    p.run("sample", "--model", model, "--n", N, "--seed", 5, "--save-z", zf, "--save-x", xf, "--threads", "1")
    z, x = et.load_npy(zf), et.load_npy(xf)
    for part, flag in (("model", []), ("sampler", ["--sampler"])):
        st = p.path("%s-%s.safetensors" % (name, part))
        p.run("export", "--model", model, "--format", "safetensors", *flag, "--out", st)
        twin = et.model_from_safetensors(st)
        p.close("%s ember->torch, %s export" % (name, part), draw(twin, z), x)
        for label in labels[1:]:
            want = p.ember_samples(model, z, label)
            p.close("%s ember->torch, %s export, --label %d" % (name, part, label),
                    twin.generate(z, labels=label), want)
    return model


def settle_batchnorm(twin):
    """Non-trivial BatchNorm statistics and affine values, so that eval mode is really tested:
    a few training-mode passes of G on random noise, then random gamma/beta."""
    c = twin.cfg
    gens = [m for n, m in twin.named_modules() if n in ("g", "ema.g")]
    width = c["classes"] if c["cond"] else c["info"]  # G's one-hot input
    with torch.no_grad():
        for g in gens:
            g.train()
            for _ in range(3):
                onehot = torch.eye(width)[torch.randint(width, (32,))] if width else None
                g(torch.randn(32, c["z_dim"] - c["info"]), onehot)
            g.eval()
        for n, t in twin.named_parameters():
            if ".bn" in n:
                t.copy_(torch.rand_like(t) + 0.5 if n.endswith("weight") else torch.randn_like(t) * 0.1)
    return twin


def torch_to_ember(p, name, text, z_dim, labels=(None,), sampler=True):
    """A PyTorch-initialised twin, imported by ember (model and sampler part), sampled by both."""
    twin = et.model_from_config(text)
    if twin.cfg["family"] == "gan":
        if twin.cfg["kind"] == "dcgan":
            et.dcgan_init(twin)
        settle_batchnorm(twin)
        if twin.cfg["info"]:
            twin.code.prior.copy_(torch.rand(twin.cfg["info"]) + 0.2)
    twin.eval()
    z = torch.randn(N, z_dim)
    for part in ("model", "sampler") if sampler else ("model",):
        st, model = p.path("%s-t-%s.safetensors" % (name, part)), p.path("%s-t-%s.ember" % (name, part))

        def check(part=part, st=st, model=model):
            et.to_safetensors(twin, st, part=part)
            p.run("import", st, "--out", model, "--force")
            for label in labels:
                want = draw(twin, z) if label is None else twin.generate(z, labels=label)
                what = "%s torch->ember, %s part%s" % (name, part, "" if label is None else ", --label %d" % label)
                p.close(what, p.ember_samples(model, z, label), want)
        p.attempt("%s torch->ember, %s part" % (name, part), check)
    return twin, z


def bare_with_names(p, name, twin, z, flags):
    """A file without metadata and with PyTorch-style names: ember import with the architecture
    flags and a --names map; and the same tensors stored as BF16."""
    tensors = et.ember_state(twin)
    renamed = {("net.%d.%s" % (i, k.rsplit(".", 1)[1]) if i % 2 == 0 else k): v
               for i, (k, v) in enumerate(tensors.items())}
    st, names, model = p.path(name + "-bare.safetensors"), p.path(name + "-names.txt"), p.path(name + "-bare.ember")
    et.save_safetensors(st, renamed)
    with open(names, "w") as f:
        f.write("# file name    ember name\n")
        for (k, _), new in zip(tensors.items(), renamed):
            if k != new:
                f.write("%s %s\n" % (new, k))

    def check():
        p.run("import", st, "--out", model, "--force", "--names", names, *flags)
        p.close("%s torch->ember, no metadata, flags + --names" % name, p.ember_samples(model, z), draw(twin, z))
    p.attempt("%s torch->ember, no metadata, flags + --names" % name, check)

    def check_bf16():
        bf = p.path(name + "-bf16.safetensors")
        et.to_safetensors(twin, bf, dtype="BF16")
        rounded = et.model_from_safetensors(bf)  # the twin with BF16-rounded weights
        p.run("import", bf, "--out", model, "--force")
        p.close("%s torch->ember, BF16 file" % name, p.ember_samples(model, z), draw(rounded, z))
    p.attempt("%s torch->ember, BF16 file" % name, check_bf16)


def vae_step(p, model):
    """One training step's loss: ember's (vae-step) against the twin's with the same eps."""
    step = os.path.join(os.path.dirname(p.ember), "interop-vae-step")
    if not os.access(step, os.X_OK):
        return p.report(False, "vae one-step loss", "%s not built (make interop)" % step)
    st = p.path("vae-step.safetensors")
    p.run("export", "--model", model, "--format", "safetensors", "--out", st)
    twin = et.model_from_safetensors(st)
    torch.manual_seed(3)
    x = torch.rand(32, 784) * (torch.rand(32, 784) < 0.3)  # sparse, in [0, 1], like strokes
    xf, ef = p.path("batch.npy"), p.path("eps.npy")
    et.save_npy(xf, x)
    r = subprocess.run([step, model, xf, ef], capture_output=True, text=True)
    if r.returncode:
        return p.report(False, "vae one-step loss", r.stderr.strip())
    loss, recon, kl = (float(v) for v in r.stdout.split())
    with torch.no_grad():
        got = twin.loss(x, et.load_npy(ef))
    for key, want in (("loss", loss), ("recon", recon), ("kl", kl)):
        rel = abs(got[key].item() - want) / max(abs(want), 1e-12)
        p.report(rel <= LOSS_TOL, "vae one-step %s (ember %.6g, torch %.6g)" % (key, want, got[key].item()),
                 "rel diff %.2e" % rel)


def classifier_checks(p):
    """The classifier has no sampler: ember eval's mean cross-entropy on an IDX test set written
    here against the twin's, both ways (ember-trained and exported; PyTorch-initialised and
    imported), the ember-trained one trained on that set. ember prints the loss to 6 decimals,
    hence the relative 1e-5."""
    torch.manual_seed(4)
    images = (torch.rand(96, 28, 28) * (torch.rand(96, 28, 28) < 0.3) * 255).round()
    labels = torch.randint(10, (96,))  # IDX data has MNIST's 10 classes
    folder = p.path("idx")
    os.makedirs(folder, exist_ok=True)
    for split in ("train", "t10k"):
        et.save_idx(os.path.join(folder, split + "-images-idx3-ubyte"), images)
        et.save_idx(os.path.join(folder, split + "-labels-idx1-ubyte"), labels)
    x = (images / 255.0).reshape(96, 784)

    def compare(what, model, twin):
        js = p.path("eval.json")
        p.run("eval", "--model", model, "--data", folder, "--json", js, "--threads", "1")
        import json
        want = json.load(open(js))["loss"]
        with torch.no_grad():
            got = torch.nn.functional.cross_entropy(twin(x).double(), labels).item()
        rel = abs(got - want) / abs(want)
        p.report(rel <= 1e-5, "%s (ember %.6f, torch %.6f)" % (what, want, got), "rel diff %.2e" % rel)

    def ember_trained():
        model, st = p.path("clf.ember"), p.path("clf.safetensors")
        p.run("train", "--model", "classifier", "--channels", "8,8,16", "--features", "32", "--bn", "1",
              "--data", folder, "--epochs", "1", "--threads", "1", "--force", "--out", model)
        p.run("export", "--model", model, "--format", "safetensors", "--out", st)
        compare("classifier conv bn ember->torch, eval loss", model, et.model_from_safetensors(st))
    p.attempt("classifier conv bn ember->torch", ember_trained)
    for name, text in (("conv bn", "kind=classifier channels=8,8,16 features=32 bn=1"),
                       ("mlp", "kind=classifier arch=mlp widths=64,32")):
        def torch_init(name=name, text=text):
            twin = et.model_from_config(text)
            with torch.no_grad():
                twin.train()
                for _ in range(3):
                    twin(torch.rand(32, 784))  # BatchNorm statistics away from 0 and 1
            twin.eval()
            st, model = p.path("clf-t.safetensors"), p.path("clf-t.ember")
            et.to_safetensors(twin, st)
            p.run("import", st, "--out", model, "--force")
            compare("classifier %s torch->ember, eval loss" % name, model, twin)
        p.attempt("classifier %s torch->ember" % name, torch_init)


def _safetensors_bytes(header, data):
    import json
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


def refusals(p):
    """Broken files must raise ValueError in the Python readers."""
    f32 = lambda shape, b, e: {"dtype": "F32", "shape": shape, "data_offsets": [b, e]}  # noqa: E731
    blob = open(p.path("vae-model.safetensors"), "rb").read()
    cases = {
        "truncated data": blob[:-10],
        "header length past the end": len(blob).to_bytes(8, "little") + blob[8:],
        "shorter than 8 bytes": blob[:5],
        "overlapping tensors": _safetensors_bytes({"a": f32([2], 0, 8), "b": f32([2], 4, 12)}, bytes(12)),
        "size not dtype x shape": _safetensors_bytes({"a": f32([3], 0, 8)}, bytes(8)),
        "offsets past the data": _safetensors_bytes({"a": f32([2], 8, 16)}, bytes(8)),
        "duplicate names": b'{"a":%s,"a":%s}' % ((b'{"dtype":"F32","shape":[1],"data_offsets":[0,4]}',) * 2),
        "unsupported dtype": _safetensors_bytes({"a": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}},
                                                bytes(8)),
        "not JSON": blob[:8] + b"{" * int.from_bytes(blob[:8], "little") + blob[8 + int.from_bytes(blob[:8], "little"):],
        "npy with a bad magic": b"\x93NUMPZ\x01\x00" + bytes(100),
        "npy float64": b"\x93NUMPY\x01\x00" + (118).to_bytes(2, "little")
                       + b"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }".ljust(117) + b"\n" + bytes(8),
        "npy truncated": open(p.path("vae-z.npy"), "rb").read()[:-4],
    }
    dup = cases["duplicate names"]
    cases["duplicate names"] = len(dup).to_bytes(8, "little") + dup + bytes(4)
    for what, data in cases.items():
        bad = p.path("bad.npy" if "npy" in what else "bad.safetensors")
        with open(bad, "wb") as f:
            f.write(data)
        try:
            (et.load_npy if "npy" in what else et.load_safetensors)(bad)
            p.report(False, "python reader refuses: " + what, "accepted")
        except ValueError as e:
            p.report(True, "python reader refuses: " + what, str(e)[len(bad) + 2:][:60])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: parity.py PATH/TO/ember")
    ember = os.path.abspath(sys.argv[1])
    torch.set_num_threads(1)
    torch.manual_seed(1)
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="ember-parity-") as tmp:
        p = Parity(ember, tmp)
        # The three the issue names, both ways.
        vae = ember_to_torch(p, "vae", ["--model", "vae", "--widths", "400", "--latent", "20"])
        ember_to_torch(p, "dcgan", ["--model", "dcgan", "--channels", "16,32", "--z", "32"])
        ember_to_torch(p, "cgan", ["--model", "cgan", "--channels", "16,32", "--z", "32", "--ema", "0.9"],
                       labels=(None, 2))
        twin, z = torch_to_ember(p, "vae", "kind=vae arch=mlp widths=400 latent=20", 20)
        bare_with_names(p, "vae", twin, z, ["--model", "vae", "--widths", "400", "--latent", "20"])
        twin, z = torch_to_ember(p, "dcgan", "kind=dcgan z_dim=64 channels=32,64", 64)
        bare_with_names(p, "dcgan", twin, z, ["--model", "dcgan", "--z", "64", "--channels", "32,64"])
        torch_to_ember(p, "cgan", "kind=dcgan z_dim=64 channels=32,64 cond=1 classes=10 ema=0.99", 64,
                       labels=(None, 7))
        vae_step(p, vae)
        # The other architectures, torch -> ember.
        for name, text, z_dim in [
                ("ae conv gaussian", "kind=ae arch=conv channels=8,16 latent=6 lik=gaussian act=leaky_relu", 6),
                ("vae linear gaussian-learned", "kind=vae arch=linear latent=5 lik=gaussian-learned", 5),
                ("vae mlp tanh gaussian", "kind=vae widths=64,32 latent=4 act=tanh lik=gaussian sigma=0.5", 4),
                ("vae mlp softplus", "kind=vae widths=48 latent=3 act=softplus", 3),
                ("gan mlp images ema", "kind=mlp z_dim=16 widths=32,64 ema=0.999 mbstd=1", 16),
                ("gan mlp points", "kind=mlp data=points z_dim=4 widths=16,16", 4),
                ("infogan dcgan prior", "kind=dcgan z_dim=24 channels=8,16 info=5 info_cont=2 info_std=0.5 mbstd=1",
                 24),
                ("cgan mlp", "kind=mlp z_dim=12 widths=32 cond=1 classes=3", 12)]:
            torch_to_ember(p, name, text, z_dim, sampler=False)
        classifier_checks(p)
        refusals(p)
    print("parity: %d passed, %d failed (%.0f s)" % (p.passed, p.failed, time.time() - start))
    sys.exit(1 if p.failed else 0)


if __name__ == "__main__":
    main()
