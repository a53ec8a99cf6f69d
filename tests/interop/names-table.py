"""The README's table of tensor names per architecture, from real exports: each model trained a
moment by ember on its built-in data, exported as safetensors, its names and shapes listed.

    /usr/bin/python3 tests/interop/names-table.py build/ember > table.md
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import ember_torch as et  # noqa: E402

SPRITES = ["--data", "sprites", "--sprites-train", "128", "--sprites-test", "32", "--epochs", "1", "--force"]
MODELS = [  # (title, ember train flags)
    ("`--model vae` (mlp 784-400-20, bernoulli)", ["--model", "vae"]),
    ("`--model vae --arch conv`", ["--model", "vae", "--arch", "conv"]),
    ("`--model vae --arch linear --lik gaussian-learned`", ["--model", "vae", "--arch", "linear",
                                                            "--lik", "gaussian-learned"]),
    ("`--model ae`", ["--model", "ae"]),
    ("`--model gan` (images)", ["--model", "gan"]),
    ("`--model gan --data rings` (points)", ["--model", "gan", "--data", "rings", "--rings-n", "256",
                                             "--epochs", "1", "--force"]),
    ("`--model dcgan`", ["--model", "dcgan"]),
    ("`--model cgan` (dcgan, projection D; sprites: 4 classes)", ["--model", "cgan"]),
    ("`--model cgan --arch mlp` (4 classes)", ["--model", "cgan", "--arch", "mlp"]),
    ("`--model dcgan --mbstd --info 10 --info-cont 2 --ema 0.999`",
     ["--model", "dcgan", "--mbstd", "--info", "10", "--info-cont", "2", "--ema", "0.999"]),
    ("`--model classifier --bn 1` (4 classes)", ["--model", "classifier", "--bn", "1"]),
    ("`--model classifier --arch mlp` (4 classes)", ["--model", "classifier", "--arch", "mlp"]),
]


def row(path):
    tensors, meta = et.load_safetensors(path)
    gan, g = meta["ember.family"] == "gan", "ema.g." if any(k.startswith("ema.g.") for k in tensors) else "g."
    sampler = lambda k: k == "code.prior" or k.startswith(g if gan else "dec.")  # noqa: E731
    out, seen = [], set()
    for k, v in tensors.items():
        base = k.rpartition(".")[0]
        if base + ".running_mean" in tensors:  # BatchNorm's four in one entry
            if base in seen:
                continue
            seen.add(base)
            k = base + ".{weight,bias,running_mean,running_var}"
        cell = "`%s` %s" % (k, list(v.shape))
        out.append("**%s**" % cell if sampler(k) else cell)
    return ", ".join(out)


def main():
    ember = os.path.abspath(sys.argv[1])
    print("| model | tensors [shape] in file order; **bold**: the sampler part (`ember export --sampler`; "
          "with `--ema` it is `ema.g.*`, written as `g.*`) |")
    print("|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (title, flags) in enumerate(MODELS):
            model, st = os.path.join(tmp, "%d.ember" % i), os.path.join(tmp, "%d.safetensors" % i)
            data = [] if "rings" in flags else SPRITES
            extra = [] if "classifier" in flags else ["--no-pictures"]
            for args in (["train"] + flags + data + extra + ["--out", model],
                         ["export", "--model", model, "--format", "safetensors", "--out", st]):
                subprocess.run([ember] + args, check=True, stdout=subprocess.DEVNULL)
            print("| %s | %s |" % (title, row(st)))


if __name__ == "__main__":
    main()
