#include "io/svg.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "io/file.h"

namespace ember {

namespace {

// ---- ranges and ticks ----

constexpr double kMaxMagnitude = 1e300;    // beyond this a range's width overflows a double
constexpr double kMinMagnitude = 1e-300;   // below this a value counts as zero
constexpr double kMinRelativeSpan = 1e-12;  // narrower ranges cannot be labelled in doubles
constexpr double kWidenFraction = 0.1;      // a zero-width range grows by this much each side
constexpr double kZeroSnap = 1e-6;          // |v| under this many steps is printed as 0
constexpr double kLogNudge = 1e-9;          // keeps log10(999.999...) from losing a digit
constexpr int kMaxSignificant = 17;         // enough for any double
constexpr double kRoundTo1 = 1.5, kRoundTo2 = 3.0, kRoundTo5 = 7.0;  // nice-step thresholds
constexpr int kPlainDigits = 6;             // integers below 10^6 print without exponent

double clamp_magnitude(double v) {
  if (v > kMaxMagnitude) return kMaxMagnitude;
  if (v < -kMaxMagnitude) return -kMaxMagnitude;
  return std::fabs(v) < kMinMagnitude ? 0.0 : v;
}

// Makes [*lo, *hi] a finite, ordered range wide enough to put ticks on (see nice_ticks).
void sanitize_range(double* lo, double* hi) {
  double a = *lo, b = *hi;
  if (!std::isfinite(a) || !std::isfinite(b)) a = 0.0, b = 1.0;
  if (a > b) {
    const double t = a;
    a = b, b = t;
  }
  a = clamp_magnitude(a), b = clamp_magnitude(b);
  const double mag = std::fmax(std::fabs(a), std::fabs(b));
  if (b - a <= mag * kMinRelativeSpan) {
    const double centre = a / 2 + b / 2;
    const double half = centre == 0.0 ? 1.0 : std::fabs(centre) * kWidenFraction;
    a = centre - half, b = centre + half;
  }
  *lo = a, *hi = b;
}

}  // namespace

Ticks nice_ticks(double lo, double hi, int target) {
  sanitize_range(&lo, &hi);
  if (target < 1) target = 1;
  if (target > kMaxTickTarget) target = kMaxTickTarget;
  const double raw = (hi - lo) / target;
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / decade;
  // The nice multiplier nearest on a log scale (Heckbert's rounding): 1.17 -> 1, not 2.
  const double mult = norm < kRoundTo1 ? 1.0 : norm < kRoundTo2 ? 2.0 : norm < kRoundTo5 ? 5.0 : 10.0;
  Ticks t;
  t.step = mult * decade;
  double k1 = std::ceil(hi / t.step);
  t.k0 = std::floor(lo / t.step);
  // Rounding in the divisions can land one step off either way: cover the ends, tightly.
  if (t.k0 * t.step > lo) t.k0 -= 1;
  else if ((t.k0 + 1) * t.step <= lo) t.k0 += 1;
  if (k1 * t.step < hi) k1 += 1;
  else if ((k1 - 1) * t.step >= hi) k1 -= 1;
  t.count = static_cast<int>(k1 - t.k0) + 1;
  return t;
}

size_t format_tick(double v, double step, char* buf, size_t cap) {
  if (!buf || cap == 0) return 0;
  if (!(step > 0.0) || !std::isfinite(step)) step = std::fabs(v) > 0.0 ? std::fabs(v) : 1.0;
  if (std::fabs(v) < step * kZeroSnap) v = 0.0;
  int sig = 1;
  if (v != 0.0 && std::isfinite(v)) {
    const int ev = static_cast<int>(std::floor(std::log10(std::fabs(v)) + kLogNudge));
    const int es = static_cast<int>(std::floor(std::log10(step) + kLogNudge));
    sig = ev - es + 1;
    if (ev >= 0 && ev < kPlainDigits && sig < ev + 1) sig = ev + 1;
    if (sig < 1) sig = 1;
    if (sig > kMaxSignificant) sig = kMaxSignificant;
  }
  char raw[48];
  std::snprintf(raw, sizeof raw, "%.*g", sig, v);
  // Copy, writing the exponent without '+' and leading zeros ("1e+05" -> "1e5").
  size_t n = 0;
  for (const char* p = raw; *p && n + 1 < cap; ++p) {
    buf[n++] = *p;
    if (*p != 'e') continue;
    ++p;
    if (*p == '-' && n + 1 < cap) buf[n++] = '-';
    if (*p == '-' || *p == '+') ++p;
    while (*p == '0' && p[1]) ++p;
    --p;  // the loop's ++p lands on the first digit to keep
  }
  buf[n] = '\0';
  return n;
}

const char* svg_palette(int i) {
  // Tableau 10: qualitative, distinct on white and for most colour-blind readers.
  static const char* const kPalette[kSvgPaletteSize] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                                        "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  const int k = i % kSvgPaletteSize;
  return kPalette[k < 0 ? k + kSvgPaletteSize : k];
}

namespace {

// ---- the streaming writer ----

constexpr size_t kOutBuffer = 4096;
constexpr double kMaxCoord = 1e6;  // px; anything beyond is off every canvas

// Buffers output into an AtomicWriter. The first error sticks: later writes do nothing,
// finish() reports it and the temp file is dropped.
class SvgOut {
 public:
  Status open(const char* path) { return status_ = file_.open(path); }

  void raw(const char* s) {
    while (*s) put(*s++);
  }
  // Text content or attribute value: & < > " ' escaped, control characters as spaces.
  void text(const char* s) {
    for (; *s; ++s) {
      switch (*s) {
        case '&': raw("&amp;"); break;
        case '<': raw("&lt;"); break;
        case '>': raw("&gt;"); break;
        case '"': raw("&quot;"); break;
        case '\'': raw("&apos;"); break;
        default: put(static_cast<unsigned char>(*s) < 0x20 ? ' ' : *s);
      }
    }
  }
  void integer(long long v) {
    char d[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
    do {
      d[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u);
    if (v < 0) put('-');
    while (n) put(d[--n]);
  }
  // A pixel coordinate to one decimal, without a trailing ".0".
  void coord(double v) {
    if (!(v > -kMaxCoord)) v = -kMaxCoord;
    if (!(v < kMaxCoord)) v = kMaxCoord;
    long long tenths = static_cast<long long>(std::floor(v * 10.0 + 0.5));
    if (tenths < 0) put('-'), tenths = -tenths;
    integer(tenths / 10);
    if (tenths % 10) put('.'), put(static_cast<char>('0' + tenths % 10));
  }
  // ` name="value"` for numbers and for escaped strings.
  void attr(const char* name, double v) {
    put(' '), raw(name), raw("=\""), coord(v), put('"');
  }
  void attr(const char* name, const char* v) {
    put(' '), raw(name), raw("=\""), text(v), put('"');
  }

  Status finish() {
    flush();
    if (status_.is_ok()) status_ = file_.commit();
    else file_.abort();
    return status_;
  }

 private:
  void put(char c) {
    if (len_ == kOutBuffer) flush();
    buf_[len_++] = c;
  }
  void flush() {
    if (status_.is_ok() && len_) status_ = file_.write(buf_, len_);
    len_ = 0;
  }

  AtomicWriter file_;
  Status status_;
  char buf_[kOutBuffer];
  size_t len_ = 0;
};

// ---- layout ----

constexpr double kMarginTop = 40, kMarginBottom = 54, kMarginLeft = 74, kMarginRight = 20;
constexpr int kTitlePx = 16, kLabelPx = 13, kTickPx = 11, kLegendPx = 12;
constexpr double kTitleBaseline = 26, kXLabelFromBottom = 12, kYLabelX = 18;
constexpr double kTickLen = 4, kTickLabelGap = 15, kYTickLabelGap = 7, kTickTextRaise = 4;
constexpr double kCharPx = 7.0;  // rough width of a 12px sans-serif character, for the legend
constexpr double kLegendGap = 14, kLegendSwatch = 18, kLegendRow = 18, kLegendTextGap = 6;
constexpr double kScatterPad = 0.05;  // fraction of the data range added on each side
constexpr double kLogPad = 0.05;      // same for log axes spanning less than a decade
constexpr int kTickTarget = 6;
constexpr double kInside = 1e-9;      // tolerance for "a tick lies on the axis"
constexpr const char* kInk = "#333333";
constexpr const char* kGridInk = "#e6e6e6";

struct Axis {
  double lo = 0.0, hi = 1.0;  // plotted units: the value, or log10 of it
  bool log = false;
  bool decades = false;       // ticks hold exponents (log axis over a decade or more)
  Ticks ticks;

  double plotted(double v) const { return log ? std::log10(v) : v; }
  double frac(double v) const { return (plotted(v) - lo) / (hi - lo); }
  double tick(int i) const { return decades ? std::pow(10.0, ticks.value(i)) : ticks.value(i); }
  bool usable(double v) const { return std::isfinite(v) && (!log || v > 0.0); }
};

// A linear axis ending on ticks at or beyond the data.
Axis covering_axis(double lo, double hi) {
  Axis a;
  a.ticks = nice_ticks(lo, hi, kTickTarget);
  a.lo = a.ticks.first(), a.hi = a.ticks.last();
  return a;
}

// A linear axis over exactly [lo, hi] (already padded), ticks inside it.
Axis exact_axis(double lo, double hi) {
  Axis a;
  sanitize_range(&lo, &hi);
  a.lo = lo, a.hi = hi;
  a.ticks = nice_ticks(lo, hi, kTickTarget);
  return a;
}

// A log10 axis for positive data in [lo, hi] (lo > hi: no data).
Axis log_axis(double lo, double hi) {
  Axis a;
  a.log = true;
  double dl = lo > hi ? 0.0 : std::log10(lo), dh = lo > hi ? 1.0 : std::log10(hi);
  if (dh - dl >= 1.0) {
    a.decades = true;
    a.ticks = nice_ticks(std::floor(dl), std::ceil(dh), kTickTarget);
    if (a.ticks.step < 1.0) {  // whole decades only
      a.ticks.step = 1.0, a.ticks.k0 = std::floor(dl);
      a.ticks.count = static_cast<int>(std::ceil(dh) - std::floor(dl)) + 1;
    }
    a.lo = a.ticks.first(), a.hi = a.ticks.last();
    return a;
  }
  const double pad = dh > dl ? (dh - dl) * kLogPad : kLogPad;
  a.lo = dl - pad, a.hi = dh + pad;
  a.ticks = nice_ticks(std::pow(10.0, a.lo), std::pow(10.0, a.hi), kTickTarget);
  return a;
}

struct Plot {
  double width = 0, height = 0;
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // plot area in px
  Axis ax, ay;
  double px(double v) const { return x0 + ax.frac(v) * (x1 - x0); }
  double py(double v) const { return y1 - ay.frac(v) * (y1 - y0); }
};

Plot make_plot(int width, int height, double legend_width) {
  Plot p;
  p.width = width, p.height = height;
  p.x0 = kMarginLeft, p.y0 = kMarginTop;
  p.x1 = width - kMarginRight - legend_width, p.y1 = height - kMarginBottom;
  return p;
}

// Room right of the plot for a legend of these names (at most a third of the width).
double legend_width(int width, const char* const* names, int n, bool any) {
  if (!any) return 0.0;
  size_t longest = 0;
  for (int i = 0; i < n; ++i)
    if (names[i] && std::strlen(names[i]) > longest) longest = std::strlen(names[i]);
  const double w = kLegendGap + kLegendSwatch + kLegendTextGap + kCharPx * static_cast<double>(longest);
  return w > width / 3.0 ? width / 3.0 : w;
}

void begin_svg(SvgOut& o, const Plot& p, const char* title) {
  o.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"");
  o.attr("width", p.width), o.attr("height", p.height);
  o.raw(" viewBox=\"0 0 "), o.coord(p.width), o.raw(" "), o.coord(p.height);
  o.raw("\" font-family=\"sans-serif\" font-size=\""), o.integer(kLegendPx), o.raw("px\">\n");
  o.raw("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
  if (!title) return;
  o.raw("<text class=\"title\" text-anchor=\"middle\" font-weight=\"bold\" font-size=\""), o.integer(kTitlePx);
  o.raw("px\""), o.attr("x", p.width / 2), o.attr("y", kTitleBaseline), o.raw(">"), o.text(title), o.raw("</text>\n");
}

void tick_label(SvgOut& o, double v, double step, const char* anchor, double x, double y) {
  char label[48];
  format_tick(v, step, label, sizeof label);
  o.raw("<text text-anchor=\""), o.raw(anchor), o.raw("\""), o.attr("x", x), o.attr("y", y), o.raw(">");
  o.text(label), o.raw("</text>\n");
}

// Grid lines and tick marks/labels at every tick inside the axes.
void draw_axes(SvgOut& o, const Plot& p) {
  o.raw("<g class=\"grid\" stroke=\""), o.raw(kGridInk), o.raw("\" stroke-width=\"1\">\n");
  for (int pass = 0; pass < 2; ++pass) {
    const Axis& a = pass == 0 ? p.ax : p.ay;
    for (int i = 0; i < a.ticks.count; ++i) {
      const double f = a.frac(a.tick(i));
      if (f < -kInside || f > 1 + kInside) continue;
      o.raw("<line");
      if (pass == 0) {
        const double x = p.px(a.tick(i));
        o.attr("x1", x), o.attr("y1", p.y0), o.attr("x2", x), o.attr("y2", p.y1 + kTickLen);
      } else {
        const double y = p.py(a.tick(i));
        o.attr("x1", p.x0 - kTickLen), o.attr("y1", y), o.attr("x2", p.x1), o.attr("y2", y);
      }
      o.raw("/>\n");
    }
  }
  o.raw("</g>\n<g class=\"ticks\" fill=\""), o.raw(kInk), o.raw("\" font-size=\""), o.integer(kTickPx), o.raw("px\">\n");
  for (int pass = 0; pass < 2; ++pass) {
    const Axis& a = pass == 0 ? p.ax : p.ay;
    for (int i = 0; i < a.ticks.count; ++i) {
      const double v = a.tick(i), f = a.frac(v);
      if (f < -kInside || f > 1 + kInside) continue;
      const double step = a.decades ? v : a.ticks.step;
      if (pass == 0) tick_label(o, v, step, "middle", p.px(v), p.y1 + kTickLabelGap);
      else tick_label(o, v, step, "end", p.x0 - kYTickLabelGap, p.py(v) + kTickTextRaise);
    }
  }
  o.raw("</g>\n");
}

// The plot frame on top of the data, then the axis labels.
void finish_axes(SvgOut& o, const Plot& p, const char* x_label, const char* y_label) {
  o.raw("<rect class=\"frame\" fill=\"none\" stroke=\""), o.raw(kInk), o.raw("\"");
  o.attr("x", p.x0), o.attr("y", p.y0), o.attr("width", p.x1 - p.x0), o.attr("height", p.y1 - p.y0), o.raw("/>\n");
  if (x_label) {
    o.raw("<text class=\"xlabel\" text-anchor=\"middle\" font-size=\""), o.integer(kLabelPx), o.raw("px\"");
    o.attr("x", (p.x0 + p.x1) / 2), o.attr("y", p.height - kXLabelFromBottom), o.raw(">");
    o.text(x_label), o.raw("</text>\n");
  }
  if (y_label) {
    const double cy = (p.y0 + p.y1) / 2;
    o.raw("<text class=\"ylabel\" text-anchor=\"middle\" font-size=\""), o.integer(kLabelPx), o.raw("px\"");
    o.attr("x", kYLabelX), o.attr("y", cy), o.raw(" transform=\"rotate(-90 "), o.coord(kYLabelX), o.raw(" ");
    o.coord(cy), o.raw(")\">"), o.text(y_label), o.raw("</text>\n");
  }
}

// One legend row: a line (series) or square (class) swatch and the escaped name.
void legend_row(SvgOut& o, const Plot& p, int i, const char* name, bool line_swatch) {
  const double x = p.x1 + kLegendGap, y = p.y0 + kLegendRow * (i + 0.5);
  if (line_swatch) {
    o.raw("<line stroke-width=\"2\" stroke=\""), o.raw(svg_palette(i)), o.raw("\"");
    o.attr("x1", x), o.attr("y1", y), o.attr("x2", x + kLegendSwatch), o.attr("y2", y);
  } else {
    const double side = kLegendSwatch / 2;
    o.raw("<rect fill=\""), o.raw(svg_palette(i)), o.raw("\"");
    o.attr("x", x + side / 2), o.attr("y", y - side / 2), o.attr("width", side), o.attr("height", side);
  }
  o.raw("/>\n<text"), o.attr("x", x + kLegendSwatch + kLegendTextGap), o.attr("y", y + kTickTextRaise), o.raw(">");
  o.text(name), o.raw("</text>\n");
}

Status check_size(const char* what, int width, int height) {
  if (width < kMinSvgSide || width > kMaxSvgSide || height < kMinSvgSide || height > kMaxSvgSide)
    return Status::error(Code::invalid_argument, "%s: size %dx%d px is outside %d..%d", what, width, height,
                         kMinSvgSide, kMaxSvgSide);
  return Status::ok();
}

// Digit names "0".."9" for unnamed classes, "series 1".. for unnamed series.
constexpr const char* kDigitNames[kSvgPaletteSize] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
constexpr const char* kSeriesNames[kSvgPaletteSize] = {"series 1", "series 2", "series 3", "series 4", "series 5",
                                                       "series 6", "series 7", "series 8", "series 9", "series 10"};

}  // namespace

// ---- line chart ----

Status write_line_chart(const char* path, const LineChart& c) {
  constexpr const char* what = "line chart";
  EMBER_TRY(check_size(what, c.width, c.height));
  if (!c.series || c.series_count < 1 || c.series_count > kSvgPaletteSize)
    return Status::error(Code::invalid_argument, "%s: %d series (want 1..%d)", what, c.series_count,
                         kSvgPaletteSize);
  const char* names[kSvgPaletteSize];
  for (int s = 0; s < c.series_count; ++s) {
    const Series& ser = c.series[s];
    if (ser.count < 0 || (ser.count > 0 && !ser.y))
      return Status::error(Code::invalid_argument, "%s: series %d has %d points and %s y values", what, s, ser.count,
                           ser.y ? "has" : "no");
    names[s] = ser.name ? ser.name : kSeriesNames[s];
  }

  // Data ranges over the drawable points.
  double xlo = HUGE_VAL, xhi = -HUGE_VAL, ylo = HUGE_VAL, yhi = -HUGE_VAL;
  Axis probe;
  probe.log = c.log_y;
  for (int s = 0; s < c.series_count; ++s) {
    const Series& ser = c.series[s];
    for (int i = 0; i < ser.count; ++i) {
      const double x = ser.x ? static_cast<double>(ser.x[i]) : i, y = ser.y[i];
      if (!std::isfinite(x) || !probe.usable(y)) continue;
      xlo = std::fmin(xlo, x), xhi = std::fmax(xhi, x), ylo = std::fmin(ylo, y), yhi = std::fmax(yhi, y);
    }
  }
  Plot p = make_plot(c.width, c.height, legend_width(c.width, names, c.series_count, true));
  p.ax = covering_axis(xlo, xhi);
  p.ay = c.log_y ? log_axis(ylo, yhi) : covering_axis(ylo, yhi);

  SvgOut o;
  EMBER_TRY(o.open(path));
  begin_svg(o, p, c.title);
  draw_axes(o, p);
  o.raw("<g class=\"lines\" fill=\"none\" stroke-width=\"1.5\" stroke-linejoin=\"round\" "
        "stroke-linecap=\"round\">\n");
  for (int s = 0; s < c.series_count; ++s) {
    const Series& ser = c.series[s];
    o.raw("<path stroke=\""), o.raw(svg_palette(s)), o.raw("\" d=\"");
    bool drawing = false, lone = false;  // lone: the last M has no segment yet
    for (int i = 0; i < ser.count; ++i) {
      const double x = ser.x ? static_cast<double>(ser.x[i]) : i, y = ser.y[i];
      if (!std::isfinite(x) || !p.ay.usable(y)) {
        if (lone) o.raw("h0");  // a round-capped zero-length segment: a dot
        drawing = lone = false;
        continue;
      }
      o.raw(drawing ? "L" : "M"), o.coord(p.px(x)), o.raw(","), o.coord(p.py(y));
      lone = !drawing;
      drawing = true;
    }
    if (lone) o.raw("h0");
    o.raw("\"/>\n");
  }
  o.raw("</g>\n");
  finish_axes(o, p, c.x_label, c.y_label);
  o.raw("<g class=\"legend\">\n");
  for (int s = 0; s < c.series_count; ++s) legend_row(o, p, s, names[s], true);
  o.raw("</g>\n</svg>\n");
  return o.finish();
}

// ---- scatter plot ----

Status write_scatter(const char* path, const ScatterPlot& sp) {
  constexpr const char* what = "scatter plot";
  EMBER_TRY(check_size(what, sp.width, sp.height));
  if (sp.count < 0 || (sp.count > 0 && (!sp.x || !sp.y)))
    return Status::error(Code::invalid_argument, "%s: %d points need x and y arrays", what, sp.count);
  if (!(sp.point_radius >= kMinPointRadius && sp.point_radius <= kMaxPointRadius))
    return Status::error(Code::invalid_argument, "%s: point radius must be 0.1..%d px", what,
                         static_cast<int>(kMaxPointRadius));
  const char* names[kSvgPaletteSize];
  if (sp.classes) {
    if (sp.class_count < 1 || sp.class_count > kSvgPaletteSize)
      return Status::error(Code::invalid_argument, "%s: %d classes (want 1..%d)", what, sp.class_count,
                           kSvgPaletteSize);
    for (int i = 0; i < sp.count; ++i)
      if (sp.classes[i] >= sp.class_count)
        return Status::error(Code::invalid_argument, "%s: point %d has class %d, but there are %d classes", what, i,
                             static_cast<int>(sp.classes[i]), sp.class_count);
    for (int k = 0; k < sp.class_count; ++k)
      names[k] = sp.class_names && sp.class_names[k] ? sp.class_names[k] : kDigitNames[k];
  }

  double xlo = HUGE_VAL, xhi = -HUGE_VAL, ylo = HUGE_VAL, yhi = -HUGE_VAL;
  for (int i = 0; i < sp.count; ++i) {
    const double x = sp.x[i], y = sp.y[i];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    xlo = std::fmin(xlo, x), xhi = std::fmax(xhi, x), ylo = std::fmin(ylo, y), yhi = std::fmax(yhi, y);
  }
  sanitize_range(&xlo, &xhi);
  sanitize_range(&ylo, &yhi);
  double xpad = (xhi - xlo) * kScatterPad, ypad = (yhi - ylo) * kScatterPad;
  xlo -= xpad, xhi += xpad, ylo -= ypad, yhi += ypad;
  Plot p = make_plot(sp.width, sp.height, legend_width(sp.width, names, sp.class_count, sp.classes != nullptr));
  if (sp.equal_aspect) {
    // Pixels per unit on the tighter axis; the other axis widens about its centre.
    const double w = p.x1 - p.x0, h = p.y1 - p.y0;
    const double ppu = std::fmin(w / (xhi - xlo), h / (yhi - ylo));
    const double xc = xlo / 2 + xhi / 2, yc = ylo / 2 + yhi / 2;
    xlo = xc - w / ppu / 2, xhi = xc + w / ppu / 2, ylo = yc - h / ppu / 2, yhi = yc + h / ppu / 2;
  }
  p.ax = exact_axis(xlo, xhi);
  p.ay = exact_axis(ylo, yhi);

  SvgOut o;
  EMBER_TRY(o.open(path));
  begin_svg(o, p, sp.title);
  draw_axes(o, p);
  o.raw("<g class=\"points\" fill-opacity=\"0.6\" stroke=\"none\">\n");
  for (int i = 0; i < sp.count; ++i) {
    const double x = sp.x[i], y = sp.y[i];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    o.raw("<circle"), o.attr("cx", p.px(x)), o.attr("cy", p.py(y)), o.attr("r", sp.point_radius);
    o.raw(" fill=\""), o.raw(svg_palette(sp.classes ? sp.classes[i] : 0)), o.raw("\"/>\n");
  }
  o.raw("</g>\n");
  finish_axes(o, p, sp.x_label, sp.y_label);
  if (sp.classes) {
    o.raw("<g class=\"legend\">\n");
    for (int k = 0; k < sp.class_count; ++k) legend_row(o, p, k, names[k], false);
    o.raw("</g>\n");
  }
  o.raw("</svg>\n");
  return o.finish();
}

}  // namespace ember
