#!/usr/bin/python3
"""Independent reference for datasets/tpch: reads the upstream .npy files
with NumPy and derives what decima-sim's load_job derives (task counts,
rough durations, cleaned first waves), printing the values
datasets/tpch/tpch_test.go checks. Usage: tpch_reference.py DATA_ROOT."""
import sys
from collections import Counter

import numpy as np

root = sys.argv[1]


def clean(td):
    # decima-sim spark_env/job_generator.py pre_process_task_duration
    out = {}
    for e in td['first_wave']:
        fresh = Counter(td['fresh_durations'][e])
        kept = []
        for d in td['first_wave'][e]:
            if fresh[d] > 0:
                fresh[d] -= 1
            else:
                kept.append(d)
        out[e] = kept
    last = []
    for e in sorted(out):
        if len(out[e]) == 0:
            out[e] = last
        last = out[e]
    return out


for size, q in [('2g', 1), ('100g', 9), ('50g', 22)]:
    adj = np.load('%s/tpch/%s/adj_mat_%d.npy' % (root, size, q), allow_pickle=True)
    td = np.load('%s/tpch/%s/task_duration_%d.npy' % (root, size, q), allow_pickle=True).item()
    edges = [(int(i), int(j)) for i, j in zip(*np.nonzero(adj))]
    print(size, q, 'stages', adj.shape[0], 'edges', len(edges), edges[:6])
    for n in [0, adj.shape[0] - 1]:
        d = td[n]
        e = next(iter(d['first_wave']))
        tasks = len(d['first_wave'][e]) + len(d['rest_wave'][e])
        rough = np.mean([i for l in d['first_wave'].values() for i in l] +
                        [i for l in d['rest_wave'].values() for i in l] +
                        [i for l in d['fresh_durations'].values() for i in l])
        c = clean(d)
        ks = sorted(c)
        print('  stage', n, 'first key', e, 'tasks', tasks, 'rough %.10f' % rough,
              'clean', [(k, len(c[k]), sum(c[k])) for k in ks[:3]])
