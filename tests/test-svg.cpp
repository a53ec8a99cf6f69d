// SVG charts (io/svg.h): nice ticks and labels, and line charts and scatter plots that
// parse back as well-formed XML, written atomically.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/temp-dir.h"
#include "io/svg.h"

using namespace ember;
namespace fs = std::filesystem;

TEST_CASE("ticks: 1-2-5 steps covering the range, for small, huge, empty and bad ranges") {
  struct Case {
    double lo, hi;
  };
  const Case cases[] = {{0, 1},       {0.0013, 0.0871}, {-3.7, 12.2},  {1e-9, 3e-9},     {1e30, 5e32},
                        {-3e38, 3e38}, {5, 5},           {0, 0},        {-2e-7, -2e-7},   {1, 1 + 1e-7},
                        {12.5, -4},   {1e-40, 1e-39},   {0.1, 1e6},    {-1e305, 1e305},  {100, 100.5}};
  for (const Case& c : cases) {
    for (int target : {2, 6, 10}) {
      CAPTURE(c.lo);
      CAPTURE(c.hi);
      CAPTURE(target);
      const Ticks t = nice_ticks(c.lo, c.hi, target);
      double lo = std::fmax(std::fmin(c.lo, c.hi), -1e300), hi = std::fmin(std::fmax(c.lo, c.hi), 1e300);
      if (hi - lo <= 1e-12 * std::fmax(std::fabs(lo), std::fabs(hi))) {  // widened as documented
        const double half = lo == 0 ? 1.0 : 0.1 * std::fabs(lo);
        lo -= half, hi += half;
      }
      REQUIRE(t.count >= 2);
      CHECK(2 * (t.count - 1) <= 3 * target + 4);
      CHECK(t.first() <= lo);
      CHECK(t.last() >= hi);
      CHECK(t.first() > lo - t.step);  // tight: no wasted tick below
      CHECK(t.last() < hi + t.step);
      CHECK(t.k0 == std::floor(t.k0));
      const double m = t.step / std::pow(10.0, std::floor(std::log10(t.step) + 1e-9));
      CHECK((std::fabs(m - 1) < 1e-9 || std::fabs(m - 2) < 1e-9 || std::fabs(m - 5) < 1e-9));
    }
  }
  const Ticks unit = nice_ticks(0, 1, 5);
  CHECK(unit.step == doctest::Approx(0.2));
  CHECK(unit.count == 6);
  const Ticks seven = nice_ticks(-3.5, 3.5, 6);  // 7/6 = 1.17 rounds to a step of 1, not 2
  CHECK(seven.step == 1.0);
  CHECK((seven.first() == -4.0 && seven.last() == 4.0));
  const Ticks bad = nice_ticks(std::nan(""), INFINITY, 5);
  CHECK((bad.first() == 0.0 && bad.last() == doctest::Approx(1.0)));

  auto label = [](double v, double step) {
    char b[32];
    format_tick(v, step, b, sizeof b);
    return std::string(b);
  };
  CHECK(label(0.1 + 0.2, 0.1) == "0.3");
  CHECK(label(1500, 500) == "1500");
  CHECK(label(999.99999999999, 1000) == "1000");
  CHECK(label(1e-5, 1e-5) == "1e-5");
  CHECK(label(2e6, 1e6) == "2e6");
  CHECK(label(-2.5, 0.5) == "-2.5");
  CHECK(label(1e-17, 0.1) == "0");
  CHECK(label(-1e-17, 0.1) == "0");
  CHECK(label(1.0000001, 1e-7) == "1.0000001");
  CHECK(label(2e32, 1e32) == "2e32");
  CHECK(label(0.001, 0.001) == "0.001");
  char tiny[4];
  CHECK(format_tick(123456, 1, tiny, sizeof tiny) == 3);  // cut, still terminated
  CHECK(std::string(tiny) == "123");
}

// ---- SVG ----

namespace {

struct TempDir : ember::testing::TempDir {
  TempDir() : ember::testing::TempDir("pics") {}
};


struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::string text;  // unescaped
};

// A strict little XML reader for what the writers emit: one root, balanced tags, quoted
// attributes, no raw '<' '>' in text or values, only the five named entities.
struct Xml {
  std::vector<Element> elements;
  std::string error;

  static bool entity(const std::string& s, size_t* i, std::string* out) {
    static const std::pair<const char*, char> kNamed[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (const auto& e : kNamed)
      if (s.compare(*i, std::strlen(e.first), e.first) == 0) {
        *i += std::strlen(e.first);
        *out += e.second;
        return true;
      }
    return false;
  }
  bool chars(const std::string& s, size_t* i, char stop, std::string* out) {
    while (*i < s.size() && s[*i] != stop) {
      const char c = s[*i];
      if (c == '<' || c == '>' || (stop == '"' && c == '\n')) return fail("raw " + std::string(1, c));
      if (c == '&') {
        if (!entity(s, i, out)) return fail("bad entity at " + std::to_string(*i));
      } else {
        *out += c, ++*i;
      }
    }
    return true;
  }
  bool fail(const std::string& why) {
    if (error.empty()) error = why;
    return false;
  }
  static bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '_'; }

  explicit Xml(const std::string& s) {
    size_t i = 0;
    const std::string prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    if (s.compare(0, prolog.size(), prolog) != 0) { fail("no prolog"); return; }
    i = prolog.size();
    std::vector<size_t> open;
    int roots = 0;
    while (i < s.size()) {
      if (s[i] != '<') {
        std::string text;
        if (!chars(s, &i, '<', &text)) return;
        if (open.empty() && text.find_first_not_of(" \n") != std::string::npos) { fail("text outside root"); return; }
        if (!open.empty()) elements[open.back()].text += text;
        continue;
      }
      ++i;
      const bool closing = i < s.size() && s[i] == '/';
      if (closing) ++i;
      size_t n0 = i;
      while (i < s.size() && name_char(s[i])) ++i;
      const std::string name = s.substr(n0, i - n0);
      if (name.empty()) { fail("empty tag name at " + std::to_string(n0)); return; }
      if (closing) {
        if (open.empty() || elements[open.back()].name != name) { fail("unbalanced </" + name + ">"); return; }
        if (i >= s.size() || s[i] != '>') { fail("bad </" + name); return; }
        open.pop_back(), ++i;
        continue;
      }
      if (open.empty() && ++roots > 1) { fail("two roots"); return; }
      Element e;
      e.name = name;
      for (;;) {
        while (i < s.size() && s[i] == ' ') ++i;
        if (i >= s.size()) { fail("eof in <" + name); return; }
        if (s.compare(i, 2, "/>") == 0 || s[i] == '>') break;
        n0 = i;
        while (i < s.size() && name_char(s[i])) ++i;
        const std::string an = s.substr(n0, i - n0);
        if (an.empty() || s.compare(i, 2, "=\"") != 0) { fail("unquoted attribute in <" + name); return; }
        i += 2;
        std::string value;
        if (!chars(s, &i, '"', &value) || i >= s.size()) { fail("bad value of " + an); return; }
        ++i;
        if (!e.attrs.emplace(an, value).second) { fail("duplicate " + an); return; }
      }
      elements.push_back(e);
      if (s[i] == '>') open.push_back(elements.size() - 1), i += 1;
      else i += 2;
    }
    if (!open.empty()) fail("unclosed <" + elements[open.back()].name + ">");
    if (roots != 1 || elements.empty() || elements[0].name != "svg") fail("root is not one <svg>");
  }
  int count(const std::string& name) const {
    int n = 0;
    for (const Element& e : elements) n += e.name == name;
    return n;
  }
  std::vector<const Element*> all(const std::string& name) const {
    std::vector<const Element*> out;
    for (const Element& e : elements)
      if (e.name == name) out.push_back(&e);
    return out;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int count_of(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("svg line chart: well-formed, one path per series, breaks, log axis, escaping") {
  TempDir dir;
  const std::string path = dir.file("loss.svg");
  const float nan = std::nanf("");
  std::vector<float> g(200), d(200), steps(200);
  for (int i = 0; i < 200; ++i) {
    steps[i] = static_cast<float>(i * 10);
    g[i] = 2.0f * std::exp(-i / 50.0f) + 0.1f;
    d[i] = 0.7f + 0.1f * std::sin(i * 0.3f);
  }
  g[50] = nan;          // a break
  d[100] = INFINITY;    // another
  d[102] = nan;         // leaves d[101] alone: a dot
  const std::vector<float> few = {0.5f, -1.0f, 0.25f};  // -1 is skipped on a log axis
  Series series[3];
  series[0] = {"G <loss> & \"friends\"", steps.data(), g.data(), 200};
  series[1] = {"D loss", steps.data(), d.data(), 200};
  series[2] = {nullptr, nullptr, few.data(), 3};
  LineChart chart;
  chart.title = "Training <GAN> & co";
  chart.x_label = "step";
  chart.y_label = "loss";
  chart.series = series;
  chart.series_count = 3;

  for (bool log_y : {false, true}) {
    CAPTURE(log_y);
    chart.log_y = log_y;
    Status s = write_line_chart(path.c_str(), chart);
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    CHECK(dir.entries() == 1);  // the temp file is gone
    const std::string text = slurp(path);
    Xml xml(text);
    REQUIRE_MESSAGE(xml.error.empty(), xml.error);
    CHECK(xml.count("path") == 3);
    const auto paths = xml.all("path");
    CHECK(count_of(paths[0]->attrs.at("d"), "M") == 2);
    CHECK(count_of(paths[1]->attrs.at("d"), "M") == 3);
    CHECK(count_of(paths[1]->attrs.at("d"), "h0") == 1);
    CHECK(count_of(paths[2]->attrs.at("d"), "M") == (log_y ? 2 : 1));
    CHECK(count_of(paths[2]->attrs.at("d"), "h0") == (log_y ? 2 : 0));  // two lone points
    CHECK(paths[0]->attrs.at("stroke") != paths[1]->attrs.at("stroke"));
    CHECK(text.find("Training &lt;GAN&gt; &amp; co") != std::string::npos);
    std::vector<std::string> texts;
    for (const Element* e : xml.all("text")) texts.push_back(e->text);
    CHECK(std::count(texts.begin(), texts.end(), "Training <GAN> & co") == 1);
    CHECK(std::count(texts.begin(), texts.end(), "G <loss> & \"friends\"") == 1);
    CHECK(std::count(texts.begin(), texts.end(), "series 3") == 1);
    CHECK(std::count(texts.begin(), texts.end(), "step") == 1);
    CHECK(std::count(texts.begin(), texts.end(), "2000") == 1);  // x ticks 0..2000 by 500
    CHECK(xml.elements[0].attrs.at("font-family") == "sans-serif");
    for (const Element* e : paths) CHECK(e->attrs.at("d").find('-') == std::string::npos);  // all on the canvas
    if (log_y) CHECK(std::count(texts.begin(), texts.end(), "0.1") == 1);  // a decade tick
  }

  // Bad arguments are refused before the file is touched.
  const std::string before = slurp(path);
  LineChart bad = chart;
  bad.series_count = 0;
  CHECK(write_line_chart(path.c_str(), bad).code() == Code::invalid_argument);
  bad.series_count = kSvgPaletteSize + 1;
  CHECK(!write_line_chart(path.c_str(), bad).is_ok());
  bad = chart;
  bad.width = 100;
  CHECK(!write_line_chart(path.c_str(), bad).is_ok());
  Series nully[1] = {{"x", nullptr, nullptr, 5}};
  bad = chart;
  bad.series = nully, bad.series_count = 1;
  CHECK(!write_line_chart(path.c_str(), bad).is_ok());
  CHECK(slurp(path) == before);
  CHECK(write_line_chart(dir.file("no/such/dir.svg").c_str(), chart).code() == Code::io_error);
  CHECK(dir.entries() == 1);

  // An empty series and a chart with no drawable points at all still make valid files.
  Series empty[1] = {{"nothing", nullptr, nullptr, 0}};
  LineChart blank;
  blank.series = empty, blank.series_count = 1, blank.log_y = true;
  REQUIRE(write_line_chart(path.c_str(), blank).is_ok());
  Xml xml(slurp(path));
  CHECK(xml.error.empty());
  CHECK(xml.count("path") == 1);
}

TEST_CASE("svg scatter: one circle per finite point, class colours, legend, equal aspect") {
  TempDir dir;
  const std::string path = dir.file("latent.svg");
  const int n = 500;
  std::vector<float> x(n), y(n);
  std::vector<uint8_t> cls(n);
  for (int i = 0; i < n; ++i) {
    cls[i] = static_cast<uint8_t>(i % 10);
    x[i] = std::cos(i * 0.7f) * (1 + cls[i]);
    y[i] = std::sin(i * 0.7f) * 0.3f * (1 + cls[i]);
  }
  x[7] = std::nanf(""), y[9] = -INFINITY;
  ScatterPlot sp;
  sp.title = "Latent space";
  sp.x_label = "z0";
  sp.y_label = "z1";
  sp.x = x.data(), sp.y = y.data(), sp.count = n;
  sp.classes = cls.data(), sp.class_count = 10;
  Status s = write_scatter(path.c_str(), sp);
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  CHECK(dir.entries() == 1);
  Xml xml(slurp(path));
  REQUIRE_MESSAGE(xml.error.empty(), xml.error);
  CHECK(xml.count("circle") == n - 2);
  CHECK(xml.count("path") == 0);
  std::map<std::string, int> colours;
  for (const Element* e : xml.all("circle")) ++colours[e->attrs.at("fill")];
  CHECK(colours.size() == 10);
  CHECK(colours[svg_palette(3)] == 50);
  int legend = 0;
  for (const Element* e : xml.all("text")) legend += e->text.size() == 1 && std::isdigit(static_cast<unsigned char>(e->text[0]));
  CHECK(legend >= 10);

  SUBCASE("equal aspect: a unit is as long in x as in y") {
    const std::vector<float> px = {0, 1, 0, 10}, py = {0, 0, 1, 0.5f};
    ScatterPlot eq;
    eq.x = px.data(), eq.y = py.data(), eq.count = 4, eq.equal_aspect = true;
    REQUIRE(write_scatter(path.c_str(), eq).is_ok());
    Xml q(slurp(path));
    REQUIRE(q.error.empty());
    const auto c = q.all("circle");
    REQUIRE(c.size() == 4);
    auto at = [&](int i, const char* k) { return std::stod(c[i]->attrs.at(k)); };
    const double ux = at(1, "cx") - at(0, "cx"), uy = at(0, "cy") - at(2, "cy");
    CHECK(ux > 10);
    CHECK(ux == doctest::Approx(uy).epsilon(0.01));
    CHECK(q.count("rect") == 2);  // background and frame: no legend without classes
  }
  SUBCASE("class names and bad input") {
    const char* names[3] = {"zero", "one & <two>", nullptr};
    sp.class_count = 3;
    for (int i = 0; i < n; ++i) cls[i] = static_cast<uint8_t>(i % 3);
    sp.class_names = names;
    REQUIRE(write_scatter(path.c_str(), sp).is_ok());
    Xml q(slurp(path));
    REQUIRE(q.error.empty());
    std::vector<std::string> texts;
    for (const Element* e : q.all("text")) texts.push_back(e->text);
    CHECK(std::count(texts.begin(), texts.end(), "one & <two>") == 1);
    CHECK(std::count(texts.begin(), texts.end(), "2") >= 1);
    const std::string before = slurp(path);
    cls[123] = 3;
    Status e = write_scatter(path.c_str(), sp);
    CHECK(e.code() == Code::invalid_argument);
    CHECK(std::string(e.message()).find("point 123 has class 3") != std::string::npos);
    cls[123] = 0;
    sp.class_count = 11;
    CHECK(!write_scatter(path.c_str(), sp).is_ok());
    sp.class_count = 3, sp.point_radius = 0;
    CHECK(!write_scatter(path.c_str(), sp).is_ok());
    sp.point_radius = 2, sp.y = nullptr;
    CHECK(!write_scatter(path.c_str(), sp).is_ok());
    CHECK(slurp(path) == before);
    CHECK(dir.entries() == 1);
  }
  SUBCASE("no points, or all at one spot") {
    ScatterPlot none;
    REQUIRE(write_scatter(path.c_str(), none).is_ok());
    CHECK(Xml(slurp(path)).error.empty());
    const std::vector<float> same(20, 3.0f);
    ScatterPlot one;
    one.x = one.y = same.data(), one.count = 20;
    REQUIRE(write_scatter(path.c_str(), one).is_ok());
    Xml q(slurp(path));
    CHECK(q.error.empty());
    CHECK(q.count("circle") == 20);
  }
}
