#include "models/gan-sampling.h"

#include "core/rng.h"

namespace ember::models {

Status generate_samples(GanModel& m, uint64_t seed, const int32_t* labels, int n, float* z, float* out,
                        float truncation) {
  const GanConfig& c = m.config();
  Rng rng(seed);
  rng.fill_normal(z, size_t(n) * c.z_dim, 0.0f, 1.0f);
  if (truncation > 0.0f) EMBER_TRY(truncate_noise(c, rng, truncation, z, n));
  for (int i = 0; i < n && c.info > 0 && labels; ++i) set_info_code(c, z + size_t(i) * c.z_dim, labels[i]);
  EMBER_TRY(m.generate(z, c.cond ? labels : nullptr, n, out));
  if (c.data != GanData::points) to_unit_pixels(out, size_t(n) * c.dims());
  return Status::ok();
}

Status fill_labels(const GanConfig& c, int label, int n, int per_row, int32_t* out) {
  const int k = c.onehot_dim();  // classes (cgan) or code values (--info)
  if (label >= 0 && k == 0)
    return Status::error(Code::invalid_argument, "--label: the model has no classes (cgan) and no code (--info)");
  if (label >= k && k > 0)
    return Status::error(Code::invalid_argument, "--label %d: the model has %s 0..%d", label, c.cond ? "classes" : "codes",
                         k - 1);
  for (int i = 0; i < n; ++i) out[i] = k > 0 ? (label >= 0 ? label : (i / per_row) % k) : 0;
  return Status::ok();
}

}  // namespace ember::models
