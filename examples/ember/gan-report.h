// The generator figures of `ember eval`: given generated images, a classifier checkpoint
// (`ember train --model classifier`) and the real data, prints and saves what metrics/gan-eval.h
// computes — is, fd (and fd_floor), class_hist, class_entropy, label_accuracy (conditional
// samples), nn_dist — and draws the closest generated/training pairs.
//
//   GanReportOptions o;
//   read_gan_report_options(cli, &o);          // --classifier, --fd-floor-n, ...
//   ... cli.finish(), generate images[n, 784] in [0, 1] (and the labels asked for) ...
//   Status s = gan_metrics_report(images, n, labels_or_null, o, &result);
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/arena.h"
#include "examples/ember/cli.h"
#include "examples/ember/session.h"
#include "data/dataset.h"
#include "metrics/gan-eval.h"

namespace ember::tool {

struct GanReportOptions {
  std::string classifier;       // checkpoint written by `ember train --model classifier` (required)
  DataSpec data;                // the real data: test set for fd, training set for the floor and nn_dist
  int threads = 0;              // 0: one per core
  metrics::GanEvalOptions eval;   // floor_n 0 here: the floor from as many images as generated
  std::string json;             // write the figures as a JSON object here ("" : no file)
  std::string pairs_png;        // the closest pairs, generated above training ("" : no picture)
  bool quiet = false;           // no printed lines
  GanReportOptions() { eval.floor_n = 0; }
};

// Registers and reads --classifier, --fd-floor-n, --nn-max-train, --pairs, --pairs-png and
// --gan-json (the caller reads --data, --threads and the rest itself).
void read_gan_report_options(Cli& cli, GanReportOptions* o);

// images[n, pixels] in [0, 1]; asked[n] (may be null): the class each image was generated
// for. Loads the classifier and the data in a session of its own, runs the evaluator,
// prints the figures, writes o.json and o.pairs_png when set. out (may be null) gets them.
Status gan_metrics_report(const float* images, int n, const int32_t* asked, const GanReportOptions& o,
                          metrics::GanEvalResult* out = nullptr);

// `ember eval --samples FILE --classifier C --data D`: the same figures for images made
// elsewhere (another engine's generator, say), read from FILE: raw float32 in this machine's
// byte order (numpy's tofile), image after image, each rows x cols of the classifier, pixels
// in [0, 1]. A file whose size is not a whole number of images, or with a pixel outside
// [0, 1] or not finite, is refused with the offset.
int eval_samples(int argc, char** argv);
// Reads such a file: *n images of `pixels` floats into *out.
Status read_raw_images(const std::string& path, int pixels, std::vector<float>* out, int* n);

// A PNG of r.pairs columns: generated image (framed) above its nearest training image,
// each column labelled with their distance. Canvas memory from the arena, given back.
Status write_nearest_pairs(Arena* arena, const float* images, const data::Dataset& train,
                           const metrics::GanEvalResult& r, const std::string& path);

}  // namespace ember::tool
