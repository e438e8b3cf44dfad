// leak_guard — the check that nothing of the kit's is left behind.
//
//   leak_guard snapshot FILE   record the IPC objects that exist now
//   leak_guard check FILE      fail (exit 1), naming each object created since
//
// CTest runs "snapshot" before every test run and "check" after it (the
// fixtures kit.leakguard.setup / kit.leakguard.check), so even
// `ctest -R chapter05` reports a leaked queue, segment, semaphore or FIFO.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit_test/leak.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "snapshot|check FILE", [](auto args) {
        if (args.size() != 2 || (args[0] != "snapshot" && args[0] != "check"))
            throw kit::UsageError{};
        const std::string file(args[1]);
        if (args[0] == "snapshot") {
            std::ofstream out(file, std::ios::trunc);
            if (!out) throw kit::SysError(errno, "open " + file);
            for (const auto& name : kit::leak::snapshot()) out << name << '\n';
            std::cout << "leak guard: snapshot taken (" << file << ")\n";
            return 0;
        }
        std::ifstream in(file);
        if (!in) throw kit::SysError(errno, "open " + file + " (run the snapshot first)");
        std::vector<std::string> before;
        for (std::string line; std::getline(in, line);) before.push_back(line);
        auto leaked = kit::leak::new_objects(before, kit::leak::snapshot());
        if (leaked.empty()) {
            std::cout << "leak guard: nothing left behind\n";
            return 0;
        }
        std::cout << "leak guard: " << leaked.size() << " object(s) left behind:\n";
        for (const auto& name : leaked) std::cout << "  " << name << '\n';
        return 1;
    });
}
