#include "examples/ember/train-view.h"

#include <unistd.h>

#include <cstdio>

#include "examples/ember/model-options.h"

namespace ember::tool {

namespace {
void format_time(double s, char* buf, size_t cap) {
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600) std::snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}
}  // namespace

TrainView::TrainView(const std::string& out, bool pictures)
    : out_(out), stem_(stem_of(out)), pictures_(pictures), tty_(isatty(fileno(stderr)) != 0) {}

void TrainView::on_resume(uint64_t step, int epoch) {
  std::printf("resuming %s at step %llu (epoch %d)\n", out_.c_str(), static_cast<unsigned long long>(step),
              epoch);
  std::fflush(stdout);
}

void TrainView::on_time_limit(double spent, double limit) {
  std::printf("time limit: stopping after %.1f of %.1f minutes\n", spent / 60, limit / 60);
}

train::TrainObserver TrainView::observer() {
  train::TrainObserver o;
  o.user = this;
  o.on_resume = [](void* u, uint64_t step, int epoch) { static_cast<TrainView*>(u)->on_resume(step, epoch); };
  o.on_time_limit = [](void* u, double spent, double limit) { static_cast<TrainView*>(u)->on_time_limit(spent, limit); };
  o.on_progress = [](void* u, const train::Progress& p) { static_cast<TrainView*>(u)->on_progress(p); };
  o.on_epoch = [](void* u, const train::EpochReport& r, const train::History& h, Arena* a) {
    const Status s = static_cast<TrainView*>(u)->on_epoch(r, h, a);
    if (r.skipped)
      std::printf("  (epoch %d skipped %d steps whose loss was not finite: lower the learning rate?)\n", r.epoch,
                  r.skipped);
    return s;
  };
  return o;
}

void TrainView::progress_line(const train::Progress& p, const char* values_format, ...) {
  if (!tty_) return;
  char values[160], left[32];
  va_list args;
  va_start(args, values_format);
  std::vsnprintf(values, sizeof values, values_format, args);
  va_end(args);
  format_time(p.seconds_left, left, sizeof left);
  std::fprintf(stderr, "\repoch %d/%d  step %d/%d  %s  %.1f steps/s  %s left   ", p.epoch, p.epochs, p.step_in_epoch,
               p.steps_per_epoch, values, p.steps_per_second, left);
}

void TrainView::clear_progress() {
  if (tty_) std::fprintf(stderr, "\r%*s\r", 110, "");
}

RunFlags read_run_flags(Cli& cli, int default_epochs, train::TrainOptions* o) {
  RunFlags r;
  o->epochs = cli.integer("--epochs", "N", "passes over the training set (in all, with --resume)", default_epochs, 1,
                          1000000);
  r.seed = cli.integer("--seed", "S", "weights, noise, shuffling and built-in data", 1, 0, 1 << 30);
  r.threads = cli.integer("--threads", "T", "worker threads (0: one per core)", 0, 0, 256);
  r.out = cli.output("--out", "FILE.ember", "checkpoint to write (its log and pictures go next to it)", nullptr,
                     ".ember");
  o->resume = cli.flag("--resume", "continue the checkpoint at --out (its architecture wins; a flag that "
                                   "disagrees with it is refused)");
  o->replace = cli.flag("--force", "start over when --out exists, replacing that checkpoint");
  r.memory = read_memory(cli);
  if (o->resume && o->replace) cli.error("--resume and --force: continue the checkpoint or replace it, not both");
  return r;
}

bool nothing_to_train(const train::Trainer& trainer, const train::TrainOptions& o) {
  if (!trainer.nothing_to_train()) return false;
  std::printf("nothing to train: %s already has %d epochs (--epochs %d); give a larger --epochs to go on. Nothing "
              "was written.\n", o.out, trainer.epochs_done(), o.epochs);
  return true;
}

Status plan_training(const train::Trainer& trainer, int threads, size_t pictures, MemoryPlan* plan) {
  train::SetupBytes b;
  EMBER_TRY(setup_bytes(&trainer, threads, &b));  // the Context's share included
  plan->add("model, optimizer, batches and context", b.trainee);
  plan->add("datasets (and shuffle order)", b.data);
  plan->add("training log", b.history + b.observer);
  plan->add("pictures (largest, given back)", pictures);
  return Status::ok();
}

Status open_trainer(train::Trainer* trainer, train::Trainee* trainee, const train::TrainOptions& options,
                    const RunFlags& run, const std::function<size_t()>& picture_bytes, Session* session) {
  EMBER_TRY(trainer->configure(trainee, options));
  MemoryPlan plan;
  EMBER_TRY(plan_training(*trainer, run.threads, picture_bytes ? picture_bytes() : 0, &plan));
  session->limit = run.memory;
  EMBER_TRY(session->open(plan, run.threads));
  return trainer->init(&session->arena, &session->ctx);
}

std::string memory_text(const Session& session) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "memory: %zu bytes (%.1f MiB), threads: %d", session.bytes,
                session.bytes / 1048576.0, session.ctx.threads());
  return buf;
}

}  // namespace ember::tool
