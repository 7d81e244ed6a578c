"""The peer comparison's model in SimPy: M/M/c with c = 8, rho = 0.8, exponential service with
a mean of 1 s, 10^6 customers. Prints the mean wait (against Erlang C), the customers served and
the wall time, one `key=value` per line for benches/peer/compare.sh.

This is the textbook SimPy program (a Resource of capacity c, one process per customer), as the
SimPy documentation writes its queueing examples."""

import random
import sys
import time

import simpy

C = 8
RHO = 0.8
SERVICE_MEAN_S = 1.0
CUSTOMERS = 1_000_000
ARRIVAL_RATE = RHO * C / SERVICE_MEAN_S


def erlang_c(c, a):
    """The probability that an arrival waits, by the Erlang B recurrence."""
    b = 1.0
    for n in range(1, c + 1):
        b = a * b / (n + a * b)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def main(seed):
    rng = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=C)
    waits = [0.0, 0]

    def customer():
        arrived = env.now
        with servers.request() as req:
            yield req
            waits[0] += env.now - arrived
            waits[1] += 1
            yield env.timeout(rng.expovariate(1.0 / SERVICE_MEAN_S))

    def source():
        for _ in range(CUSTOMERS):
            yield env.timeout(rng.expovariate(ARRIVAL_RATE))
            env.process(customer())

    start = time.perf_counter()
    env.process(source())
    env.run()
    wall = time.perf_counter() - start
    expected = erlang_c(C, ARRIVAL_RATE * SERVICE_MEAN_S) * SERVICE_MEAN_S / (C - ARRIVAL_RATE * SERVICE_MEAN_S)
    print(f"customers={waits[1]}")
    print(f"mean_wait_s={waits[0] / waits[1]:.6f}")
    print(f"erlang_c_wait_s={expected:.6f}")
    print(f"wall_s={wall:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
