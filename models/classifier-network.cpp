// The classifier's config text and its networks; see classifier-network.h.
#include "models/classifier-network.h"

#include <cstring>

#include "models/config-text.h"

namespace ember::models {

using nn::Graph;
using nn::T;

namespace {

constexpr const char* kKind = "classifier";
// The conv stack: a 3x3 stride-1 layer keeps the size, then two 4x4 stride-2 layers halve it.
constexpr int kFirstKernel = 3, kFirstStride = 1, kFirstPad = 1;
constexpr int kDownKernel = 4, kDownStride = 2, kDownPad = 1;
constexpr int kDownsample = kDownStride * kDownStride;  // sides must divide by this
constexpr const char* kConvNames[ClassifierConfig::kConvLayers] = {"clf.conv1", "clf.conv2", "clf.conv3"};
constexpr const char* kBnNames[ClassifierConfig::kConvLayers] = {"clf.bn1", "clf.bn2", "clf.bn3"};
constexpr const char* kHiddenNames[ClassifierConfig::kMaxDepth] = {"clf.fc1", "clf.fc2", "clf.fc3", "clf.fc4"};

// conv (+ BatchNorm) + ReLU.
T conv_block(Graph& g, const ClassifierConfig& c, T x, int layer) {
  const bool first = layer == 0;
  const int k = first ? kFirstKernel : kDownKernel, s = first ? kFirstStride : kDownStride;
  const int p = first ? kFirstPad : kDownPad;
  T h = g.conv2d(x, c.channels[layer], k, s, p, kConvNames[layer], !c.batchnorm);
  if (c.batchnorm) h = g.batchnorm(h, kBnNames[layer]);
  return g.relu(h);
}

}  // namespace

const char* classifier_arch_name(ClassifierArch a) { return a == ClassifierArch::conv ? "conv" : "mlp"; }

Status ClassifierConfig::validate() const {
  if (rows < 1 || cols < 1 || rows > kMaxSide || cols > kMaxSide)
    return Status::error(Code::invalid_argument, "classifier: image size %dx%d out of range 1..%d", rows, cols,
                         kMaxSide);
  if (classes < 2 || classes > kMaxClasses)
    return Status::error(Code::invalid_argument, "classifier: %d classes (2..%d)", classes, kMaxClasses);
  if (arch == ClassifierArch::conv) {
    if (rows % kDownsample || cols % kDownsample)
      return Status::error(Code::invalid_argument, "classifier: conv arch needs sides divisible by %d, got %dx%d",
                           kDownsample, rows, cols);
    for (int ch : channels)
      if (ch < 1 || ch > kMaxWidth)
        return Status::error(Code::invalid_argument, "classifier: conv channels %d out of range 1..%d", ch, kMaxWidth);
    if (features < 1 || features > kMaxWidth)
      return Status::error(Code::invalid_argument, "classifier: features %d out of range 1..%d", features, kMaxWidth);
  } else {
    if (depth < 1 || depth > kMaxDepth)
      return Status::error(Code::invalid_argument, "classifier: mlp needs 1..%d hidden widths, got %d", kMaxDepth,
                           depth);
    for (int i = 0; i < depth; ++i)
      if (widths[i] < 1 || widths[i] > kMaxWidth)
        return Status::error(Code::invalid_argument, "classifier: width %d out of range 1..%d", widths[i], kMaxWidth);
  }
  return Status::ok();
}

Status ClassifierConfig::set(const char* key, const char* value) {
  if (!std::strcmp(key, "kind")) {
    if (std::strcmp(value, kKind) != 0)
      return Status::error(Code::invalid_argument, "kind: '%s' is not a classifier", value);
    return Status::ok();
  }
  if (!std::strcmp(key, "arch")) {
    if (!std::strcmp(value, "conv")) return (arch = ClassifierArch::conv, Status::ok());
    if (!std::strcmp(value, "mlp")) return (arch = ClassifierArch::mlp, Status::ok());
    return Status::error(Code::invalid_argument, "arch: unknown value '%s' (one of: conv mlp)", value);
  }
  if (!std::strcmp(key, "rows")) return parse_int(key, value, 1, kMaxSide, &rows);
  if (!std::strcmp(key, "cols")) return parse_int(key, value, 1, kMaxSide, &cols);
  if (!std::strcmp(key, "classes")) return parse_int(key, value, 2, kMaxClasses, &classes);
  if (!std::strcmp(key, "features")) return parse_int(key, value, 1, kMaxWidth, &features);
  if (!std::strcmp(key, "widths")) return parse_int_list(key, value, 1, kMaxWidth, widths, kMaxDepth, &depth);
  if (!std::strcmp(key, "channels")) {
    int n = 0, got[kConvLayers];
    EMBER_TRY(parse_int_list(key, value, 1, kMaxWidth, got, kConvLayers, &n));
    if (n != kConvLayers) return Status::error(Code::invalid_argument, "channels: give three values, e.g. 32,32,64");
    for (int i = 0; i < kConvLayers; ++i) channels[i] = got[i];
    return Status::ok();
  }
  if (!std::strcmp(key, "bn")) {
    int on = 0;
    EMBER_TRY(parse_int(key, value, 0, 1, &on));
    batchnorm = on != 0;
    return Status::ok();
  }
  return Status::error(Code::invalid_argument, "classifier: unknown key '%s'", key);
}

Status ClassifierConfig::to_text(char* buf, size_t cap) const {
  TextWriter w(buf, cap);
  w.put("kind=").put(kKind).put(" arch=").put(classifier_arch_name(arch));
  w.put(" rows=").put_int(rows).put(" cols=").put_int(cols).put(" classes=").put_int(classes).put(" channels=");
  for (int i = 0; i < kConvLayers; ++i) (i ? w.put(",") : w).put_int(channels[i]);
  w.put(" features=").put_int(features).put(" widths=");
  for (int i = 0; i < depth; ++i) (i ? w.put(",") : w).put_int(widths[i]);
  w.put(" bn=").put_int(batchnorm ? 1 : 0);
  return w.status("classifier config");
}

Status ClassifierConfig::from_text(const char* text) {
  ClassifierConfig c;
  bool kind = false;
  EMBER_TRY(for_each_pair(text, [&c, &kind](const char* k, const char* v) {
    kind |= !std::strcmp(k, "kind");
    return c.set(k, v);
  }));
  if (!kind) return Status::error(Code::invalid_argument, "classifier: the text has no kind=classifier");
  EMBER_TRY(c.validate());
  *this = c;
  return Status::ok();
}

T build_classifier(Graph& g, const ClassifierConfig& c, T x, T* features) {
  const int batch = static_cast<int>(g.shape(x)[0]);
  T h = x;
  if (c.arch == ClassifierArch::conv) {
    h = g.reshape(h, Shape(batch, 1, c.rows, c.cols));
    for (int i = 0; i < ClassifierConfig::kConvLayers; ++i) h = conv_block(g, c, h, i);
    h = g.linear(g.flatten(h), c.features, "clf.fc", !c.batchnorm);
    if (c.batchnorm) h = g.batchnorm(h, "clf.bn.fc");
    h = g.relu(h);
  } else {
    for (int i = 0; i < c.depth; ++i) h = g.relu(g.linear(h, c.widths[i], kHiddenNames[i]));
  }
  if (features) *features = h;
  return g.linear(h, c.classes, "clf.out");
}

}  // namespace ember::models
