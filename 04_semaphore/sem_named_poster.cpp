// sem_named_poster.cpp — the other side of sem_named_waiter: opens the named
// semaphore (creating it if the waiter has not started yet) and posts it once.
//
// Run:    ./sem_named_waiter /demo & ./sem_named_poster /demo
// Prints: "poster: sem_post on /demo (value before: 0)"
// It leaves the name on purpose (the post must wait for the waiter, which
// removes it); run alone, /dev/shm/sem.demo stays until sem_unlink("/demo").
#include <fcntl.h>
#include <semaphore.h>

#include <cstdio>
#include <string>

#include "kit/check.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "/NAME", [](auto args) {
        if (args.size() != 1 || args[0].size() < 2 || args[0][0] != '/')
            throw kit::UsageError{"NAME must look like /something"};
        const std::string name(args[0]);

        sem_t* sem = kit::check(::sem_open(name.c_str(), O_CREAT, 0600, 0), SEM_FAILED, "sem_open");
        int value = 0;
        kit::check(::sem_getvalue(sem, &value), "sem_getvalue");
        kit::check(::sem_post(sem), "sem_post");
        std::printf("poster: sem_post on %s (value before: %d)\n", name.c_str(), value);
        // Closing does not remove the semaphore or its value: the waiter, when
        // it comes, still finds the post (kernel persistence until sem_unlink).
        kit::check(::sem_close(sem), "sem_close");
        return 0;
    });
}
