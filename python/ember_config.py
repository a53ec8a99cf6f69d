"""ember's model config texts: the one-line "key=value ..." form every checkpoint and safetensors
export carries (ember.config), parsed with ember's defaults and written back in ember's order.

    cfg = parse_config("kind=vae arch=mlp widths=400 latent=20")   # {'family': 'autoencoder', ...}
    config_text(cfg)   # 'kind=vae arch=mlp rows=28 cols=28 widths=400 channels=32,64 latent=20 ...'

The family follows from kind, as models/checkpoint-kind.cpp decides it: classifier; mlp or
dcgan (a GAN); ae or vae (an autoencoder). Unknown keys and values are refused (ValueError).
"""
import struct

# Each family's keys in ember's to_text order, with their defaults (models/*-network.h).
_DEFAULTS = {
    "autoencoder": [("kind", "vae"), ("arch", "mlp"), ("rows", 28), ("cols", 28), ("widths", [400]),
                    ("channels", [32, 64]), ("latent", 20), ("act", "relu"), ("lik", "bernoulli"), ("sigma", 1.0)],
    "gan": [("kind", "mlp"), ("data", "images"), ("rows", 28), ("cols", 28), ("z_dim", 100), ("widths", [256, 512]),
            ("channels", [64, 128]), ("cond", 0), ("classes", 10), ("mbstd", 0), ("gan_loss", "ns"), ("d_steps", 1),
            ("g_steps", 1), ("unroll", 0), ("ema", 0.0), ("topk", 0.0), ("info", 0), ("info_cont", 0),
            ("info_std", 1.0), ("info_real", 0)],
    "classifier": [("kind", "classifier"), ("arch", "conv"), ("rows", 28), ("cols", 28), ("classes", 10),
                   ("channels", [32, 32, 64]), ("features", 128), ("widths", [256]), ("bn", 0)],
}
_CHOICES = {
    ("autoencoder", "kind"): ("ae", "vae"), ("autoencoder", "arch"): ("mlp", "linear", "conv"),
    ("autoencoder", "lik"): ("bernoulli", "gaussian", "gaussian-learned"),
    ("autoencoder", "act"): ("relu", "tanh", "sigmoid", "softplus", "leaky_relu"),
    ("gan", "kind"): ("mlp", "dcgan"), ("gan", "data"): ("points", "images"), ("gan", "gan_loss"): ("minimax", "ns"),
    ("classifier", "arch"): ("conv", "mlp"),
}
_FAMILY_OF_KIND = {"ae": "autoencoder", "vae": "autoencoder", "mlp": "gan", "dcgan": "gan", "classifier": "classifier"}


def float32(v):
    """v rounded to the nearest float32, as ember stores config floats."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


def _fmt_float(v):
    """ember's put_float: the shortest decimal that reads back as the same float32."""
    f = float32(v)
    for digits in range(1, 10):
        s = "%.*g" % (digits, f)
        if float32(float(s)) == f:
            return s
    return repr(f)


def parse_config(text):
    """An ember config text -> dict of typed values with ember's defaults, plus 'family'.
    Without kind=, the text is tried as a GAN, then as an autoencoder, in ember's order."""
    pairs = {}
    for item in text.split():
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ValueError("config: %r is not key=value" % item)
        pairs[key] = value
    if "kind" not in pairs:
        try:
            return _typed(pairs, "gan")
        except ValueError:
            return _typed(pairs, "autoencoder")
    family = _FAMILY_OF_KIND.get(pairs["kind"])
    if family is None:
        raise ValueError("config: kind=%s is no model ember knows" % pairs["kind"])
    return _typed(pairs, family)


def _typed(pairs, family):
    pairs, cfg = dict(pairs), {"family": family}
    for key, default in _DEFAULTS[family]:
        value = pairs.pop(key, None)
        try:
            if value is None:
                cfg[key] = list(default) if isinstance(default, list) else default
            elif isinstance(default, list):
                cfg[key] = [int(v) for v in value.split(",")]
            elif isinstance(default, float):
                cfg[key] = float32(float(value))
            elif isinstance(default, int):
                cfg[key] = int(value)
            else:
                cfg[key] = value
        except ValueError:
            raise ValueError("config: %s=%s is not a valid value" % (key, value)) from None
        choices = _CHOICES.get((family, key))
        if choices and cfg[key] not in choices:
            raise ValueError("config: %s=%s (one of: %s)" % (key, cfg[key], " ".join(choices)))
    if pairs:
        raise ValueError("config: unknown keys (family %s): %s" % (family, " ".join(sorted(pairs))))
    _validate(cfg)
    return cfg


def _validate(c):
    """The checks of ember's validate() that decide whether the networks can be built."""
    fam = c["family"]
    if fam == "autoencoder":
        if c["arch"] == "conv" and (c["rows"] % 4 or c["cols"] % 4):
            raise ValueError("config: the conv arch needs sides divisible by 4")
        if c["lik"] == "gaussian-learned" and (c["arch"] == "conv" or c["kind"] == "ae"):
            raise ValueError("config: gaussian-learned needs a vae with arch mlp or linear")
    elif fam == "gan":
        if c["kind"] == "dcgan" and (c["data"] != "images" or c["rows"] % 4 or c["cols"] % 4):
            raise ValueError("config: dcgan needs data=images and sides divisible by 4")
        if c["info"] and (c["cond"] or c["info"] == 1 or c["info"] + c["info_cont"] >= c["z_dim"]):
            raise ValueError("config: info needs cond=0, info >= 2 and info + info_cont < z_dim")
    elif c["arch"] == "conv" and (c["rows"] % 4 or c["cols"] % 4 or len(c["channels"]) != 3):
        raise ValueError("config: the conv classifier needs sides divisible by 4 and three channels")


def config_text(cfg):
    """The dict back to ember's one-line text, in to_text's key order."""
    out = []
    for key, default in _DEFAULTS[cfg["family"]]:
        v = cfg[key]
        if isinstance(default, list):
            v = ",".join(str(int(w)) for w in v)
        elif isinstance(default, float):
            v = _fmt_float(v)
        elif isinstance(default, bool) or isinstance(default, int):
            v = str(int(v))
        out.append("%s=%s" % (key, v))
    return " ".join(out)
