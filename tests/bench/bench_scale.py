"""The hand-off to img2dataset and Accelerate, measured (issue #40; chapter 25 shows one run of each).
1. Pictures a second: img2dataset (2 processes) + `ingest_img2dataset` against `download_images`, on the demo digits served by the practice
   server on 127.0.0.1, three rounds, medians.
2. One process against two under `accelerate launch` (gloo, on the CPU): fastai's fine_tune(1) on 600 digits at 64 px, 32 pictures a
   step either way, over five seeds: each pair's accuracies, and the one-process spread between seeds beside the gap between the pair.
Not a timed test: it prints tables."""
import json, os, socket, statistics, subprocess, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def downloads(tmp:Path, rounds:int=3):
    import pandas as pd
    from lesson2_lib.demo import demo_dataset
    from lesson2_lib.practice import PracticeServer
    from lesson2_lib.urls import write_url_list
    from lesson2_lib.download import download_images, ingest_img2dataset, run_img2dataset
    planted = demo_dataset(tmp/'site'/'digits')
    with PracticeServer(tmp/'site') as srv:
        for label, rows in planted.groupby('label'):
            write_url_list([srv.url('files', f'digits/{p}') for p in rows.path], tmp/'urls.parquet', label=label)
        urls, took = pd.read_parquet(tmp/'urls.parquet'), {'img2dataset + ingest': [], 'download_images': []}
        for r in range(rounds):
            start = time.time()
            run_img2dataset(tmp/'urls.parquet', tmp/f'i2d-{r}', processes=2, timeout=5)
            ok = (ingest_img2dataset(tmp/f'i2d-{r}', tmp/f'ingested-{r}', urls).status == 'ok').sum()
            took['img2dataset + ingest'].append((time.time() - start, ok))
            start = time.time()
            ok = (download_images(urls, tmp/f'downloaded-{r}', timeout=5, allow_private=True, progress=False).status == 'ok').sum()
            took['download_images'].append((time.time() - start, ok))
    print(f'{len(urls)} URLs of the demo digits on 127.0.0.1, {rounds} rounds (median seconds; pictures kept a second)')
    for name, runs in took.items():
        sec = statistics.median(s for s, _ in runs)
        print(f'  {name:22} {sec:6.1f} s  {runs[0][1] / sec:7.1f} pictures/s  (kept: {sorted({k for _, k in runs})})')
    a, b = (statistics.median(s for s, _ in runs) for runs in took.values())
    print(f'  img2dataset + ingest takes x{a / b:.2f} the time of download_images here (one machine, a local server: its start-up dominates)')

def pairs(tmp:Path, seeds=range(5), lr:str='1e-3'):
    from lesson2_lib.demo import demo_dataset
    from lesson2_lib.scale import launch_args
    demo_dataset(tmp/'digits', per_class=60)
    common = ['--fastai', '--epochs', '1', '--size', '64', '--lr', lr, '--no-flip', '--json']
    rows = []
    for seed in seeds:
        row = {}
        for n, bs in ((1, 32), (2, 16)):
            cmd, env = launch_args(n, tmp/'digits', '--out', tmp/f'model-{seed}-{n}', '--bs', bs, '--seed', seed, *common, cpu=True, port=free_port())
            r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env})
            if r.returncode: raise RuntimeError(r.stderr[-2000:])
            m = json.loads(r.stdout)
            row[n] = (m['valid_accuracy'], m['seconds'])
        rows.append(row)
        print(f'  seed {seed}: 1 process {row[1][0]:.3f} ({row[1][1]:.0f} s), 2 processes {row[2][0]:.3f} ({row[2][1]:.0f} s), gap {row[1][0] - row[2][0]:+.3f}', flush=True)
    one = [r[1][0] for r in rows]; gaps = [r[1][0] - r[2][0] for r in rows]
    print(f'  one process between seeds: {min(one):.3f} to {max(one):.3f} (spread {max(one) - min(one):.3f})')
    print(f'  1 minus 2 processes: mean {statistics.mean(gaps):+.3f}, largest {max(gaps, key=abs):+.3f}; within 0.03 in {sum(abs(g) <= 0.03 for g in gaps)} of {len(gaps)}')
    print(f'  seconds a run, median: 1 process {statistics.median(r[1][1] for r in rows):.0f}, 2 processes {statistics.median(r[2][1] for r in rows):.0f} '
          f'({os.cpu_count()} cores here: two processes share them, and exchange gradients every step)')

def main():
    tmp = Path(tempfile.mkdtemp())
    downloads(tmp/'dl')
    print("fastai's fine_tune(1), 600 digits at 64 px, lr 1e-3, 32 pictures a step (1 x 32 or 2 x 16), accelerate launch on the CPU")
    pairs(tmp/'train')

if __name__ == '__main__': main()
