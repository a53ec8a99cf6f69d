#include "train/trainer.h"

#include <chrono>
#include <cstdio>
#include <cstring>

namespace ember::train {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

Status refuse(const char* what) {
  return Status::error(Code::unsupported, "trainee: %s is not implemented by this model", what);
}

bool file_exists(const char* path) {
  std::FILE* f = std::fopen(path, "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

}  // namespace

// ---- the defaults: a trainee that implements nothing refuses ----------------------------------
Status Trainee::adopt_checkpoint_config(const char*) { return Status::ok(); }
Status Trainee::configure_model() { return Status::ok(); }
Status Trainee::bytes_needed(int, Arena*, size_t*) { return refuse("bytes_needed"); }
Status Trainee::init(Arena*, Context*) { return refuse("init"); }
void Trainee::release() {}
int Trainee::columns(const char**, int) const { return 0; }
int Trainee::step_values() const { return 0; }
int Trainee::steps_per_epoch() const { return 0; }
Status Trainee::seek(int, int) { return refuse("seek"); }
int Trainee::position() const { return 0; }
void Trainee::set_lr(float) {}
float Trainee::lr() { return 0.0f; }
Status Trainee::begin_epoch(int) { return Status::ok(); }
Status Trainee::step(double*) { return refuse("step"); }
Status Trainee::end_epoch(int, const double*, double*) { return Status::ok(); }
Status Trainee::save(const char*, uint64_t) const { return refuse("save"); }
Status Trainee::load(const char*, uint64_t*) { return refuse("load"); }


Status path_stem(const char* path, char* buf, size_t cap) {
  const size_t n = std::strlen(path);
  const char* slash = std::strrchr(path, '/');
  const char* dot = std::strrchr(path, '.');
  const size_t keep = dot && (!slash || dot > slash) ? static_cast<size_t>(dot - path) : n;
  if (keep + 1 > cap) return Status::error(Code::invalid_argument, "path of %zu characters: at most %zu", n, cap - 1);
  std::memcpy(buf, path, keep);
  buf[keep] = 0;
  return Status::ok();
}

// ---- set-up -------------------------------------------------------------------------------------
Status Trainer::configure(Trainee* trainee, const TrainOptions& options) {
  if (!trainee) return Status::error(Code::invalid_argument, "trainer: no model");
  if (!options.out || !*options.out) return Status::error(Code::invalid_argument, "trainer: no checkpoint path");
  if (options.epochs < 1) return Status::error(Code::invalid_argument, "trainer: %d epochs", options.epochs);
  trainee_ = trainee, o_ = options;
  o_.schedule.epochs = o_.epochs;
  o_.schedule.time_limit = o_.time_limit;
  if (o_.schedule.decay_from < 0 || (o_.schedule.decay_from > 0 && o_.schedule.decay_from >= o_.epochs))
    return Status::error(Code::invalid_argument, "trainer: decay from epoch %d of %d", o_.schedule.decay_from, o_.epochs);
  char stem[kMaxPath];
  EMBER_TRY(path_stem(o_.out, stem, sizeof stem));
  std::snprintf(log_, sizeof log_, "%s.log.csv", stem);
  columns_ = trainee_->columns(names_, kMaxColumns);
  if (columns_ < 1 || columns_ > kMaxColumns || trainee_->step_values() > kMaxColumns)
    return Status::error(Code::invalid_argument, "trainer: %d log columns (1..%d)", columns_, kMaxColumns);
  resuming_ = o_.resume && file_exists(o_.out);
  if (resuming_) EMBER_TRY(trainee_->adopt_checkpoint_config(o_.out));
  return trainee_->configure_model();
}

Status Trainer::bytes_needed(int threads, Arena* scratch, size_t* bytes) const {
  if (!trainee_) return Status::error(Code::invalid_argument, "trainer: not configured");
  size_t model = 0;
  EMBER_TRY(trainee_->bytes_needed(threads, scratch, &model));
  // Room for every epoch of this run; a resumed log may hold more rows than that only when it
  // ran past --epochs, and then no epoch is trained (the log is read into the room it has).
  *bytes = model + History::bytes_needed(columns_, o_.epochs + 1) + Arena::rounded(o_.observer_bytes);
  return Status::ok();
}

Status Trainer::init(Arena* arena, Context* ctx) {
  if (!trainee_) return Status::error(Code::invalid_argument, "trainer: not configured");
  {  // a checkpoint that cannot be written fails now, not after the first epoch's work
    AtomicWriter probe;
    EMBER_TRY(probe.open(o_.out));
  }  // the probe's temp file is removed; the checkpoint itself is not touched
  return all_or_nothing(arena, [&] { return take(arena, ctx); }, [&] {
    trainee_->release();
    history_ = History();
    arena_ = nullptr, step_ = 0, resumed_ = false;
  });
}

// init's pieces in order; init undoes them all when one fails.
Status Trainer::take(Arena* arena, Context* ctx) {
  EMBER_TRY(trainee_->init(arena, ctx));
  EMBER_TRY(history_.init(arena, names_, columns_, o_.epochs + 1));
  arena_ = arena, step_ = 0, resumed_ = false;
  if (!resuming_) return Status::ok();
  EMBER_TRY(trainee_->load(o_.out, &step_));
  const int spe = trainee_->steps_per_epoch();
  if (spe < 1) return Status::error(Code::invalid_argument, "trainer: %d steps per epoch", spe);
  const uint64_t epoch = step_ / static_cast<uint64_t>(spe);
  EMBER_TRY(history_.read_csv(log_, epoch > uint64_t(o_.epochs) ? o_.epochs : static_cast<int>(epoch)));
  if (epoch < uint64_t(o_.epochs)) EMBER_TRY(trainee_->seek(static_cast<int>(epoch), static_cast<int>(step_ % spe)));
  resumed_ = true;
  return Status::ok();
}

// ---- the epoch loop -----------------------------------------------------------------------------
Status Trainer::run(const TrainObserver& obs) {
  const int spe = trainee_->steps_per_epoch();
  if (spe < 1) return Status::error(Code::invalid_argument, "trainer: %d steps per epoch", spe);
  if (resumed_ && obs.on_resume) obs.on_resume(obs.user, step_, static_cast<int>(step_ / spe) + 1);
  const int values = trainee_->step_values();
  const int i_epoch = history_.index_of("epoch"), i_step = history_.index_of("step"),
            i_seconds = history_.index_of("seconds");
  const auto run_start = Clock::now();
  const uint64_t first_step = step_, total_steps = static_cast<uint64_t>(o_.epochs) * spe;
  double spent = history_.sum("seconds");  // training seconds, earlier runs of a resumed model included
  while (step_ < total_steps) {
    const int epoch = static_cast<int>(step_ / spe);
    if (o_.time_limit > 0 && spent + history_.last("seconds") > o_.time_limit) {
      if (obs.on_time_limit) obs.on_time_limit(obs.user, spent, o_.time_limit);
      break;
    }
    trainee_->set_lr(o_.schedule.at(epoch, spent));
    EMBER_TRY(trainee_->begin_epoch(epoch));
    const auto epoch_start = Clock::now();
    auto shown = epoch_start;
    double sums[kMaxColumns] = {0}, means[kMaxColumns] = {0};
    int n = 0;
    for (int i = trainee_->position(); i < spe; ++i, ++step_) {
      EMBER_TRY(trainee_->step(sums));
      ++n;
      if (obs.on_progress && seconds_since(shown) > o_.progress_every) {
        shown = Clock::now();
        for (int v = 0; v < values; ++v) means[v] = sums[v] / n;
        Progress p;
        p.epoch = epoch + 1, p.epochs = o_.epochs, p.step_in_epoch = i + 1, p.steps_per_epoch = spe;
        p.means = means;
        p.steps_per_second = (step_ + 1 - first_step) / seconds_since(run_start);
        p.seconds_left = (total_steps - step_ - 1) / p.steps_per_second;
        obs.on_progress(obs.user, p);
      }
    }
    for (int v = 0; v < values; ++v) means[v] = sums[v] / (n ? n : 1);
    double row[kMaxColumns] = {0};
    EMBER_TRY(trainee_->end_epoch(epoch, means, row));
    const double seconds = seconds_since(epoch_start);
    spent += seconds;
    if (i_epoch >= 0) row[i_epoch] = epoch + 1;
    if (i_step >= 0) row[i_step] = static_cast<double>(step_);
    if (i_seconds >= 0) row[i_seconds] = seconds;
    EMBER_TRY(history_.add(row));
    EMBER_TRY(trainee_->save(o_.out, step_));
    EMBER_TRY(history_.write_csv(log_));
    EpochReport r;
    r.epoch = epoch + 1, r.epochs = o_.epochs, r.step = step_, r.row = history_.row(history_.rows() - 1);
    r.seconds = seconds, r.lr = trainee_->lr();
    r.last = step_ == total_steps || (o_.time_limit > 0 && spent + seconds > o_.time_limit);
    if (obs.on_epoch) EMBER_TRY(obs.on_epoch(obs.user, r, history_, arena_));
  }
  return Status::ok();
}

}  // namespace ember::train
