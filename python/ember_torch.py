"""PyTorch twins of ember's networks: the same tensor names, layouts and arithmetic.

    import ember_torch as et
    vae = et.model_from_safetensors("vae.safetensors")     # exported by `ember export --format safetensors`
    x = vae.decode(torch.randn(16, vae.cfg["latent"]))       # [16, 1, 28, 28]: what `ember sample` draws
    gan = et.model_from_safetensors("dcgan.safetensors")   # a model or a `--sampler` export
    img = gan.generate(torch.randn(16, 100), labels=None)  # [16, 1, 28, 28] in [0, 1] (points: [16, 2])
    net = et.model_from_config("kind=vae arch=mlp widths=400 latent=20")  # fresh PyTorch init
    et.to_safetensors(net, "mine.safetensors")             # `ember import mine.safetensors --out m.ember`
    tensors, meta = et.load_safetensors("any.safetensors"); et.save_npy("z.npy", z)

Every network option of ember's config texts is built: AE/VAE (arch mlp/linear/conv, each
likelihood and activation), GANs (mlp on points or images, dcgan, cond with the projection
discriminator, mbstd, info/info_cont/info_std/code prior heads and sampling, the ema copy of G)
and the classifier (conv with or without BatchNorm, mlp). The training-schedule keys of a GAN
(gan_loss, d_steps, g_steps, unroll, topk, ema's decay, info_real) are kept in the text but do
nothing here: these modules are the networks, not ember's trainer. VAE/AE modules also give
ember's training loss (loss()); GAN losses are left to the caller (python/train_ddp.py).
tests/interop/parity.py compares what ember can be asked to compute (samples, the VAE loss, the
classifier's loss); a discriminator's forward (mbstd, projection, info heads) is checked by
names and shapes only. Needs python/ on sys.path (ember_config.py, ember_formats.py beside it).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from ember_config import config_text, float32, parse_config
from ember_formats import (load_idx, load_npy, load_safetensors, save_idx, save_npy,  # re-exported
                           save_safetensors)

__all__ = ["Autoencoder", "Gan", "Generator", "Discriminator", "Classifier", "model_from_config",
           "model_from_safetensors", "to_safetensors", "load_ember_tensors", "ember_state", "sampler_tensors",
           "dcgan_init", "parse_config", "config_text", "load_safetensors", "save_safetensors", "load_npy",
           "save_npy", "load_idx", "save_idx"]

LEAKY_SLOPE = 0.2      # ember's leaky_relu slope (AE act and GAN discriminators)
MBSTD_EPS = 1e-8       # nn/ops.h kMinibatchStddevEps
DCGAN_INIT_STD = 0.02  # models/gan-network.cpp kDcganInitStd
LOG_2PI = 1.8378770664093454836


def _put(root, dotted, module):
    """Registers module under a dotted name ("clf.bn.fc"), making plain containers on the way."""
    *path, last = dotted.split(".")
    m = root
    for p in path:
        if p not in m._modules:
            m.add_module(p, nn.Module())
        m = m._modules[p]
    m.add_module(last, module)
    return module


def _mbstd(h):
    """ember's minibatch_stddev: one more channel (feature) holding the mean over features of
    the batch standard deviation (biased, +eps inside the root)."""
    sd = torch.sqrt(h.var(dim=0, unbiased=False) + MBSTD_EPS).mean()
    extra = sd.expand(h.shape[0], 1, *h.shape[2:])
    return torch.cat([h, extra], dim=1)


def _act(name, x):
    if name == "relu":
        return F.relu(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "softplus":
        return F.softplus(x)
    return F.leaky_relu(x, LEAKY_SLOPE)


class EmberModule(nn.Module):
    """Common to the twins: the config, its family and which part (model or sampler) this is."""

    def __init__(self, cfg, part):
        super().__init__()
        if part not in ("model", "sampler"):
            raise ValueError("part must be 'model' or 'sampler', got %r" % part)
        if part == "sampler" and cfg["family"] == "classifier":
            raise ValueError("a classifier has no sampler part")
        self.cfg, self.part = cfg, part
        self.config_text = config_text(cfg)

    def sub(self, dotted):
        return self.get_submodule(dotted)

    def optional_tensors(self):
        return set()


class Autoencoder(EmberModule):
    """ember's AE/VAE (models/ae-network.cpp); part='sampler' holds the decoder alone."""

    def __init__(self, cfg, part="model"):
        super().__init__(cfg, part)
        c = cfg
        pixels, latent, w = c["rows"] * c["cols"], c["latent"], c["widths"]
        ch, side = c["channels"], (c["rows"] // 4, c["cols"] // 4)
        flat = ch[1] * side[0] * side[1]
        vae = c["kind"] == "vae"
        if part == "model":
            feat = pixels
            if c["arch"] == "mlp":
                for i, width in enumerate(w):
                    _put(self, "enc.fc%d" % (i + 1), nn.Linear(feat, width))
                    feat = width
            elif c["arch"] == "conv":
                _put(self, "enc.conv1", nn.Conv2d(1, ch[0], 4, 2, 1))
                _put(self, "enc.conv2", nn.Conv2d(ch[0], ch[1], 4, 2, 1))
                feat = flat
            _put(self, "enc.mu" if vae else "enc.code", nn.Linear(feat, latent))
            if vae:
                _put(self, "enc.logvar", nn.Linear(feat, latent))
        if c["arch"] == "conv":
            _put(self, "dec.fc", nn.Linear(latent, flat))
            _put(self, "dec.deconv2", nn.ConvTranspose2d(ch[1], ch[0], 4, 2, 1))
            _put(self, "dec.deconv1", nn.ConvTranspose2d(ch[0], 1, 4, 2, 1))
            return
        feat = latent
        if c["arch"] == "mlp":
            for i in reversed(range(len(w))):  # the decoder mirrors: dec.fc<depth> comes first
                _put(self, "dec.fc%d" % (i + 1), nn.Linear(feat, w[i]))
                feat = w[i]
        if c["lik"] == "gaussian-learned":
            _put(self, "dec.logvar", nn.Linear(feat, pixels))
        _put(self, "dec.out", nn.Linear(feat, pixels))

    def encode(self, x):
        """x [N, pixels] or [N, 1, rows, cols] in [0, 1] -> (mu or code, logvar or None)."""
        c = self.cfg
        if self.part != "model":
            raise ValueError("a sampler file holds the decoder only")
        h = x.reshape(x.shape[0], -1)
        if c["arch"] == "mlp":
            for i in range(len(c["widths"])):
                h = _act(c["act"], self.sub("enc.fc%d" % (i + 1))(h))
        elif c["arch"] == "conv":
            h = h.reshape(-1, 1, c["rows"], c["cols"])
            h = _act(c["act"], self.sub("enc.conv1")(h))
            h = _act(c["act"], self.sub("enc.conv2")(h)).flatten(1)
        if c["kind"] == "ae":
            return self.sub("enc.code")(h), None
        return self.sub("enc.mu")(h), self.sub("enc.logvar")(h)

    def decoder_output(self, z):
        """z [N, latent] -> (logits or mean [N, pixels], learned logvar or None)."""
        c = self.cfg
        h = z.reshape(z.shape[0], -1)
        if c["arch"] == "conv":
            r, q = c["rows"] // 4, c["cols"] // 4
            h = _act(c["act"], self.sub("dec.fc")(h)).reshape(-1, c["channels"][1], r, q)
            h = _act(c["act"], self.sub("dec.deconv2")(h))
            return self.sub("dec.deconv1")(h).flatten(1), None
        if c["arch"] == "mlp":
            for i in reversed(range(len(c["widths"]))):
                h = _act(c["act"], self.sub("dec.fc%d" % (i + 1))(h))
        logvar = self.sub("dec.logvar")(h) if c["lik"] == "gaussian-learned" else None
        return self.sub("dec.out")(h), logvar

    @torch.no_grad()
    def decode(self, z):
        """What `ember sample` draws: sigmoid(logits) (bernoulli) or the mean, [N, 1, rows, cols]."""
        out, _ = self.decoder_output(z)
        if self.cfg["lik"] == "bernoulli":
            out = torch.sigmoid(out)
        return out.reshape(-1, 1, self.cfg["rows"], self.cfg["cols"])

    def loss(self, x, eps=None):
        """ember's training loss per image, batch mean (float64): {'loss', 'recon', 'kl'}.
        x [B, pixels] in [0, 1]; eps [B, latent] the reparameterisation noise (vae; drawn if None)."""
        c = self.cfg
        x = x.reshape(x.shape[0], -1)
        mu, logvar = self.encode(x)
        z = mu
        if c["kind"] == "vae":
            eps = torch.randn_like(mu) if eps is None else eps
            z = mu + torch.exp(0.5 * logvar) * eps
        out, out_logvar = self.decoder_output(z)
        o, t, b = out.double(), x.double(), x.shape[0]
        if c["lik"] == "bernoulli":
            recon = (o.clamp(min=0) - o * t + torch.log1p(torch.exp(-o.abs()))).sum() / b
        elif c["kind"] == "ae":
            recon = ((o - t) ** 2).sum() / b  # an ae's gaussian loss is the plain squared error
        else:
            lv = out_logvar.double() if out_logvar is not None else \
                torch.full_like(o, float32(2.0 * float32(math.log(c["sigma"]))))
            recon = (0.5 * (LOG_2PI + lv + (t - o) ** 2 * torch.exp(-lv))).sum() / b
        kl = torch.zeros((), dtype=torch.float64)
        if c["kind"] == "vae":
            m, lv = mu.double(), logvar.double()
            kl = (-0.5 * (1 + lv - m * m - torch.exp(lv))).sum() / b
        return {"loss": recon + kl, "recon": recon, "kl": kl}

    def forward(self, x, eps=None):
        """The training loss (loss()): what a DDP wrapper runs."""
        return self.loss(x, eps)


class Generator(nn.Module):
    """G of models/gan-network.cpp: [noise, onehot] -> [N, dims] (mlp) or [N, 1, rows, cols] (dcgan)."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        onehot = c["classes"] if c["cond"] else c["info"]
        feat = c["z_dim"] - c["info"] + onehot
        if c["kind"] == "dcgan":
            c1, c2 = c["channels"]
            self.fc = nn.Linear(feat, c2 * (c["rows"] // 4) * (c["cols"] // 4))
            self.bn0 = nn.BatchNorm1d(self.fc.out_features)
            self.deconv1 = nn.ConvTranspose2d(c2, c1, 4, 2, 1)
            self.bn1 = nn.BatchNorm2d(c1)
            self.deconv2 = nn.ConvTranspose2d(c1, 1, 4, 2, 1)
            return
        for i, width in enumerate(c["widths"]):
            self.add_module("fc%d" % (i + 1), nn.Linear(feat, width))
            feat = width
        self.out = nn.Linear(feat, 2 if c["data"] == "points" else c["rows"] * c["cols"])

    def forward(self, z, onehot=None):
        c = self.c
        h = torch.cat([z, onehot], 1) if onehot is not None else z
        if c["kind"] == "dcgan":
            h = F.relu(self.bn0(self.fc(h))).reshape(-1, c["channels"][1], c["rows"] // 4, c["cols"] // 4)
            h = F.relu(self.bn1(self.deconv1(h)))
            return torch.tanh(self.deconv2(h))
        for i in range(len(c["widths"])):
            h = F.relu(self._modules["fc%d" % (i + 1)](h))
        h = self.out(h)
        return torch.tanh(h) if c["data"] == "images" else h


class Discriminator(nn.Module):
    """D of models/gan-network.cpp: x -> logit [N, 1]; forward also returns the info heads."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        mb = 1 if c["mbstd"] else 0
        if c["kind"] == "dcgan":
            c1, c2 = c["channels"]
            self.conv1 = nn.Conv2d(1, c1, 4, 2, 1)
            self.conv2 = nn.Conv2d(c1, c2, 4, 2, 1)
            self.bn2 = nn.BatchNorm2d(c2)
            feat = (c2 + mb) * (c["rows"] // 4) * (c["cols"] // 4)
            self.fc = nn.Linear(feat, 1)
            if c["cond"]:  # the projection term: <embed(y), proj * features>, no biases
                self.embed = nn.Linear(c["classes"], feat, bias=False)
                self.proj = nn.Linear(feat, 1, bias=False)
        else:
            feat = (2 if c["data"] == "points" else c["rows"] * c["cols"]) + (c["classes"] if c["cond"] else 0)
            for i, width in enumerate(reversed(c["widths"])):
                self.add_module("fc%d" % (i + 1), nn.Linear(feat, width))
                feat = width
            feat += mb
        if c["info"]:
            self.q = nn.Linear(feat, c["info"])
        if c["info_cont"]:
            self.qc = nn.Linear(feat, c["info_cont"])
        if c["kind"] != "dcgan":
            self.out = nn.Linear(feat, 1)

    def forward(self, x, onehot=None):
        """-> (logit [N, 1], code logits or None, continuous codes or None)."""
        c = self.c
        if c["kind"] == "dcgan":
            h = F.leaky_relu(self.conv1(x.reshape(-1, 1, c["rows"], c["cols"])), LEAKY_SLOPE)
            h = F.leaky_relu(self.bn2(self.conv2(h)), LEAKY_SLOPE)
            if c["mbstd"]:
                h = _mbstd(h)
            h = h.flatten(1)
            logit = self.fc(h)
            if c["cond"]:
                logit = logit + self.proj(self.embed(onehot) * h)
        else:
            h = x.reshape(x.shape[0], -1)
            if c["cond"]:
                h = torch.cat([h, onehot], 1)
            for i in range(len(c["widths"])):
                h = F.leaky_relu(self._modules["fc%d" % (i + 1)](h), LEAKY_SLOPE)
            if c["mbstd"]:
                h = _mbstd(h)
            logit = self.out(h)
        q = self.q(h) if c["info"] else None
        qc = self.qc(h) if c["info_cont"] else None
        return logit, q, qc


class Gan(EmberModule):
    """ember's GAN: g, d, ema.g (with ema) and code.prior (with info); part='sampler' holds g
    alone (the averaged weights when the model had them, as `ember export --sampler` writes)."""

    def __init__(self, cfg, part="model"):
        super().__init__(cfg, part)
        self.g = Generator(cfg)
        if part == "model":
            self.d = Discriminator(cfg)
            if cfg["ema"] > 0:
                _put(self, "ema.g", Generator(cfg))
        if cfg["info"]:
            _put(self, "code", nn.Module()).register_buffer("prior", torch.ones(cfg["info"]))

    def optional_tensors(self):
        # A sampler export may leave the prior out; then the codes are uniform, as in ember.
        return {"code.prior"} if self.part == "sampler" else set()

    def sampler(self):
        """The generator ember samples with: the average when there is one."""
        return self.sub("ema.g") if "ema" in self._modules else self.g

    def onehot(self, z, labels=None, per_row=8):
        """G's inputs for z [N, z_dim]: (noise, onehot or None), as GanModel::generate builds them."""
        c = self.cfg
        n, keep = z.shape[0], c["z_dim"] - c["info"]
        noise = z[:, :keep].clone()
        if c["info_std"] != 1.0:
            plain = keep - c["info_cont"]
            noise[:, :plain] = noise[:, :plain] * c["info_std"]
        if c["info"]:
            return noise, F.one_hot(self.pick_codes(z[:, keep:]), c["info"]).to(z.dtype)
        if not c["cond"]:
            return noise, None
        if labels is None:  # ember sample's default: one class per grid row of per_row samples
            labels = (torch.arange(n) // per_row) % c["classes"]
        labels = torch.as_tensor(labels, dtype=torch.long).expand(n) if torch.as_tensor(labels).dim() == 0 \
            else torch.as_tensor(labels, dtype=torch.long)
        if labels.min() < 0 or labels.max() >= c["classes"]:
            raise ValueError("labels must lie in 0..%d" % (c["classes"] - 1))
        return noise, F.one_hot(labels, c["classes"]).to(z.dtype)

    def pick_codes(self, codes):
        """The info code of each row: argmax (uniform prior) or Gumbel-max with the prior."""
        w = self.code.prior.double()
        if bool((w == w[0]).all()):
            return codes.argmax(dim=1)
        phi = 0.5 * torch.special.erfc(-codes.double() / math.sqrt(2.0))
        return (torch.log(w / w.sum()) - torch.log(-torch.log(phi))).argmax(dim=1)

    @torch.no_grad()
    def generate(self, z, labels=None, per_row=8):
        """What `ember sample` draws for z [N, z_dim]: images in [0, 1] as [N, 1, rows, cols]
        ((x + 1) / 2 clamped), or points [N, 2]. labels: int, [N] classes, or None (cond only)."""
        noise, onehot = self.onehot(z, labels, per_row)
        x = self.sampler()(noise, onehot)
        if self.cfg["data"] == "points":
            return x
        return ((x + 1.0) * 0.5).clamp(0.0, 1.0).reshape(-1, 1, self.cfg["rows"], self.cfg["cols"])


class Classifier(EmberModule):
    """ember's image classifier (models/classifier-network.cpp): x -> logits."""

    def __init__(self, cfg, part="model"):
        super().__init__(cfg, part)
        c, bn = cfg, bool(cfg["bn"])
        if c["arch"] == "conv":
            ch, cin = c["channels"], 1
            for i, (k, s) in enumerate([(3, 1), (4, 2), (4, 2)]):
                _put(self, "clf.conv%d" % (i + 1), nn.Conv2d(cin, ch[i], k, s, 1, bias=not bn))
                if bn:
                    _put(self, "clf.bn%d" % (i + 1), nn.BatchNorm2d(ch[i]))
                cin = ch[i]
            _put(self, "clf.fc", nn.Linear(ch[2] * (c["rows"] // 4) * (c["cols"] // 4), c["features"], bias=not bn))
            if bn:
                _put(self, "clf.bn.fc", nn.BatchNorm1d(c["features"]))
            feat = c["features"]
        else:
            feat = c["rows"] * c["cols"]
            for i, width in enumerate(c["widths"]):
                _put(self, "clf.fc%d" % (i + 1), nn.Linear(feat, width))
                feat = width
        _put(self, "clf.out", nn.Linear(feat, c["classes"]))

    def features(self, x):
        c = self.cfg
        if c["arch"] != "conv":
            h = x.reshape(x.shape[0], -1)
            for i in range(len(c["widths"])):
                h = F.relu(self.sub("clf.fc%d" % (i + 1))(h))
            return h
        h = x.reshape(-1, 1, c["rows"], c["cols"])
        for i in range(3):
            h = self.sub("clf.conv%d" % (i + 1))(h)
            h = F.relu(self.sub("clf.bn%d" % (i + 1))(h) if c["bn"] else h)
        h = self.sub("clf.fc")(h.flatten(1))
        return F.relu(self.sub("clf.bn.fc")(h) if c["bn"] else h)

    def forward(self, x):
        return self.sub("clf.out")(self.features(x))


_CLASSES = {"autoencoder": Autoencoder, "gan": Gan, "classifier": Classifier}


def model_from_config(text, part="model"):
    """A twin with PyTorch's default initialisation, in eval mode."""
    cfg = parse_config(text)
    return _CLASSES[cfg["family"]](cfg, part).eval()


def dcgan_init(module):
    """ember's DCGAN initialisation: conv and linear weights N(0, 0.02) (not BatchNorm's),
    d.proj.weight ones (a plain inner product at first)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith(".weight") and ".bn" not in name:
                p.normal_(0.0, DCGAN_INIT_STD)
            if name.endswith("d.proj.weight"):
                p.fill_(1.0)
    return module


def ember_state(module):
    """The tensors ember knows: the state_dict without PyTorch's num_batches_tracked."""
    return {k: v for k, v in module.state_dict().items() if not k.endswith(".num_batches_tracked")}


def load_ember_tensors(module, tensors):
    """Loads ember-named tensors; every missing, extra or misshaped tensor is named in the error
    (only PyTorch's own num_batches_tracked may be absent)."""
    want = ember_state(module)
    optional = module.optional_tensors() if isinstance(module, EmberModule) else set()
    tensors = {k: v for k, v in tensors.items() if not k.endswith(".num_batches_tracked")}
    missing = sorted(set(want) - set(tensors) - optional)
    extra = sorted(set(tensors) - set(want))
    shaped = sorted("%s %s (want %s)" % (k, list(tensors[k].shape), list(want[k].shape))
                    for k in set(want) & set(tensors) if tensors[k].shape != want[k].shape)
    if missing or extra or shaped:
        raise ValueError("tensors do not fit the model: missing %s; extra %s; misshaped %s"
                         % (missing or "none", extra or "none", shaped or "none"))
    module.load_state_dict(tensors, strict=False)
    return module


def _infer_part(cfg, tensors):
    if cfg["family"] == "autoencoder":
        return "model" if any(k.startswith("enc.") for k in tensors) else "sampler"
    if cfg["family"] == "gan":
        return "model" if any(k.startswith("d.") for k in tensors) else "sampler"
    return "model"


def model_from_safetensors(path, config=None):
    """The twin of a safetensors file, weights loaded, in eval mode. The architecture comes from
    the file's ember.config metadata, else from config (a text); the part (model or sampler)
    from ember.part, else from the names present."""
    tensors, meta = load_safetensors(path)
    text = meta.get("ember.config", config)
    if text is None:
        raise ValueError("%s: no ember.config metadata; pass config='kind=... ...'" % path)
    cfg = parse_config(text)
    part = meta.get("ember.part") or _infer_part(cfg, tensors)
    module = _CLASSES[cfg["family"]](cfg, part)
    try:
        load_ember_tensors(module, tensors)
    except ValueError as e:
        raise ValueError("%s: %s" % (path, e)) from None
    return module.eval()


def sampler_tensors(module):
    """The sampler part ember exports: a VAE's dec.*, a GAN's g.* (from ema.g.* with averages)."""
    state = ember_state(module)
    fam = module.cfg["family"]
    if fam == "autoencoder":
        return {k: v for k, v in state.items() if k.startswith("dec.")}
    if fam != "gan":
        raise ValueError("a %s has no sampler part" % fam)
    src = "ema.g." if any(k.startswith("ema.g.") for k in state) else "g."
    out = {"g." + k[len(src):]: v for k, v in state.items() if k.startswith(src)}
    if "code.prior" in state:
        out["code.prior"] = state["code.prior"]
    return out


def to_safetensors(module, path, config=None, part="model", dtype="F32"):
    """Writes module's tensors with the metadata `ember import` reads (no flags needed).
    part='sampler' writes the sampler part only (sampler_tensors); dtype F16/BF16 halves it."""
    cfg = parse_config(config) if config else dict(module.cfg)
    if part == "sampler":
        tensors = sampler_tensors(module)
        if cfg["family"] == "gan":
            cfg["ema"] = 0.0  # G alone: the averaged weights are now G's own
    elif part == "model":
        if getattr(module, "part", "model") != "model":
            raise ValueError("a sampler module can only be written as part='sampler'")
        tensors = ember_state(module)
    else:
        raise ValueError("part must be 'model' or 'sampler', got %r" % part)
    meta = {"format": "pt", "ember.config": config_text(cfg), "ember.family": cfg["family"], "ember.part": part}
    save_safetensors(path, tensors, meta, dtype)
