// The image classifier's networks: its config (with the text form kept in checkpoints)
// and the graph builder. models/classifier-model.h trains and runs them.
//
// Architectures (ClassifierConfig::arch):
//   conv  x[B, 1, H, W] -> conv c1 3x3 s1 p1 -> relu        (H x W)
//                       -> conv c2 4x4 s2 p1 -> relu        (H/2 x W/2)
//                       -> conv c3 4x4 s2 p1 -> relu        (H/4 x W/4)
//                       -> flatten -> linear F -> relu      the FEATURE layer [B, F]
//                       -> linear classes                    logits
//         With bn=1 every conv and the feature linear is followed by BatchNorm (before the
//         ReLU); the layer before it then has no bias (BatchNorm's beta takes its place).
//         Default 32,32,64 channels and F = 128: about 450k parameters (its MNIST accuracy:
//         docs/lab-notes.md).
//   mlp   x[B, H*W] -> (linear w_i -> relu) for each width -> linear classes; the last
//         hidden layer is the feature layer. For tiny inputs and fast tests.
// Weights of the convolutions and linear layers start from He initialisation
// (N(0, 2 / fan_in), right for ReLU nets; Kaiming He et al. 2015): the graph's default
// U(+-1/sqrt(fan_in)) shrinks the signal at every layer (docs/lab-notes.md). Training
// minimises the mean softmax cross-entropy with Adam. Parameter names are fixed
// ("clf.conv1.weight", "clf.fc.bias", "clf.out.weight", ...), shared by the training graph
// and the inference graph, and the config text ("kind=classifier arch=conv ...") goes in
// the checkpoint, so a file knows what it is.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "nn/graph.h"

namespace ember::models {

enum class ClassifierArch : uint8_t { conv, mlp };
const char* classifier_arch_name(ClassifierArch a);

struct ClassifierConfig {
  static constexpr int kMaxDepth = 4;
  static constexpr int kConvLayers = 3;
  static constexpr int kMaxClasses = 100;
  ClassifierArch arch = ClassifierArch::conv;
  int rows = 28, cols = 28;
  int classes = 10;
  int channels[kConvLayers] = {32, 32, 64};  // conv: channels of the three convolutions
  int features = 128;                        // conv: width of the feature layer
  int widths[kMaxDepth] = {256, 0, 0, 0};    // mlp: hidden widths (the last = features)
  int depth = 1;                             // mlp: how many widths are used
  bool batchnorm = false;                    // conv: BatchNorm before every ReLU

  int pixels() const { return rows * cols; }
  int feature_dim() const { return arch == ClassifierArch::conv ? features : widths[depth - 1]; }
  Status validate() const;
  // "kind=classifier arch=conv rows=28 cols=28 classes=10 channels=32,32,64 features=128
  // widths=256 bn=0": kept in checkpoints.
  Status to_text(char* buf, size_t cap) const;
  Status from_text(const char* text);
  // One "key=value" of the text form (kind accepts only "classifier").
  Status set(const char* key, const char* value);
};

// Builds x -> logits on g (x: [B, pixels]); *features gets the feature-layer node.
nn::T build_classifier(nn::Graph& g, const ClassifierConfig& c, nn::T x, nn::T* features);

}  // namespace ember::models
