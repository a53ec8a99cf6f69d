// `ember train --model classifier` and `ember eval` of a classifier: the classifier that scores
// generators (models/classifier-model.h, metrics/gan-eval.h), trained and checked on real data.
// Each command returns the process exit code (0 ok, 1 failed, 2 bad usage).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "examples/ember/model-options.h"
#include "models/classifier-model.h"

namespace ember::tool {

int train_classifier(int argc, char** argv);
int eval_classifier(int argc, char** argv);

// A classifier loaded for inference from its checkpoint, in a session sized for it plus
// `extra` bytes (data, evaluation scratch).
using LoadedClassifier = Loaded<models::ClassifierModel>;

}  // namespace ember::tool
