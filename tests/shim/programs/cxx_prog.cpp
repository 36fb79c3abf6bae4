// cxx_prog.cpp - C++ new/delete, containers and threads on the shim (make
// shim-test): output is the same on any allocator.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

struct alignas(64) Wide { double v[8]; };

static unsigned long work(int seed) {
    std::map<std::string, std::vector<int>> m;
    for (int i = 0; i < 100000; i++) {
        auto &v = m[std::to_string((i * 7919 + seed) % 5000)];
        v.push_back(i);
        if (v.size() > 20) v.erase(v.begin());
    }
    std::vector<std::unique_ptr<Wide>> w;
    for (int i = 0; i < 20000; i++) w.push_back(std::make_unique<Wide>());
    unsigned long sum = 0;
    for (auto &p : w) sum += reinterpret_cast<uintptr_t>(p.get()) % 64; // 0: aligned new
    for (auto &kv : m) sum += kv.first.size() + kv.second.size();
    return sum;
}

int main() {
    unsigned long r[4] = {0, 0, 0, 0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; t++) ts.emplace_back([&r, t] { r[t] = work(t); });
    for (auto &t : ts) t.join();
    std::printf("%lu %lu %lu %lu\n", r[0], r[1], r[2], r[3]);
    return 0;
}
