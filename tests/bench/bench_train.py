"""Training, whole processes side by side: fastai's fine_tune(1) against `lesson2 train DATA --out DIR` with no options.

Both use EfficientNet-Lite0 with the same ImageNet weights and the same DataBlock (valid_pct=0.2, seed=42, 224 px) on
../shared/datasets/bears. fastai runs in a fresh Python process as the lesson writes it (bs 32); ours is the installed
command with its defaults, from an empty features cache, so its time includes importing everything and computing every
feature. Each process's peak memory (max RSS) is read from the kernel. Not a timed test: it prints a table."""
import json, os, re, subprocess, sys, tempfile, time
from pathlib import Path

BEARS = Path(__file__).resolve().parents[3]/'shared'/'datasets'/'bears'
BIN = Path(sys.executable).parent

FASTAI = '''
import sys, warnings; warnings.filterwarnings('ignore')
from fastai.vision.all import vision_learner, accuracy
from lesson2_lib.train import image_dls, efficientnet_lite0
learn = vision_learner(image_dls(sys.argv[1], size=224, bs=32), efficientnet_lite0, metrics=accuracy)
with learn.no_bar(), learn.no_logging(): learn.fine_tune(1)
print('accuracy', float(learn.validate()[1]))
'''

def run(cmd:list, env:dict|None=None)->tuple:
    "(seconds, peak RSS MB, stdout) of `cmd` as a child process, peak memory from wait4."
    start = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, **(env or {})})
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.time() - start
    if status: sys.exit(f'{" ".join(map(str, cmd[:3]))} failed with status {status}')
    return seconds, usage.ru_maxrss / 1024, out

def main():
    if not BEARS.is_dir(): sys.exit(f'bench_train: {BEARS} is absent (it exists only beside the development checkout)')
    with tempfile.TemporaryDirectory() as tmp:
        fa_s, fa_mb, out = run([sys.executable, '-c', FASTAI, str(BEARS)])
        fa_acc = float(re.search(r'accuracy ([\d.]+)', out)[1])
        ours_s, ours_mb, out = run([str(BIN/'lesson2'), 'train', str(BEARS), '--out', f'{tmp}/m', '--json'], env={'LESSON2_CACHE': f'{tmp}/cache'})
        m = json.loads(out)
        warm_s, warm_mb, _ = run([str(BIN/'lesson2'), 'train', str(BEARS), '--out', f'{tmp}/m2', '--json'], env={'LESSON2_CACHE': f'{tmp}/cache'})
        ft_s, ft_mb, out = run([str(BIN/'lesson2'), 'train', str(BEARS), '--out', f'{tmp}/m3', '--epochs', '1', '--json'], env={'LESSON2_CACHE': f'{tmp}/cache'})
        ft = json.loads(out)
    print(f'bears: {m["train_items"]} training / {m["valid_items"]} validation pictures, 224 px, EfficientNet-Lite0; whole processes\n')
    print(f'{"":58} {"seconds":>8} {"peak MB":>8} {"valid acc":>10}')
    print(f'{"fastai fine_tune(1), bs 32":58} {fa_s:8.1f} {fa_mb:8.0f} {fa_acc:10.2%}')
    print(f'{"lesson2 train BEARS --out M (defaults, cold cache)":58} {ours_s:8.1f} {ours_mb:8.0f} {m["valid_accuracy"]:10.2%}')
    print(f'{"lesson2 train BEARS --out M (defaults, warm cache)":58} {warm_s:8.1f} {warm_mb:8.0f} {m["valid_accuracy"]:10.2%}')
    print(f'{"lesson2 train BEARS --out M --epochs 1 (bs " + str(ft["bs"]) + "; kept: " + ft["kept"] + ")":58} {ft_s:8.1f} {ft_mb:8.0f} {ft["valid_accuracy"]:10.2%}')
    print(f'\nwall-time ratio, fastai fine_tune(1) / lesson2 train defaults (cold): {fa_s / ours_s:.1f}x')

if __name__ == '__main__': main()
