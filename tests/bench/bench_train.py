"""Training, whole processes side by side: fastai's fine_tune(1) against `lesson2 train DATA --out DIR` with no options.

Both use EfficientNet-Lite0 with the same ImageNet weights and the same DataBlock (valid_pct=0.2, seed=42, 224 px) on
../shared/datasets/bears (re-encoded, at most 512 px) and on ../shared/datasets/bears-full (150 full-size originals, median
~390 kB, up to 22 megapixels). fastai runs in a fresh Python process as the lesson writes it (bs 32); ours is the installed
command with its defaults, from an empty features cache, so its time includes importing everything and computing every
feature. Each process's peak memory (max RSS) is read from the kernel. Not a timed test: it prints a table."""
import json, os, re, subprocess, sys, tempfile, time
from pathlib import Path

BEARS = Path(__file__).resolve().parents[3]/'shared'/'datasets'/'bears'
FULL = BEARS.with_name('bears-full')
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

def fastai_and_ours(data:Path, tmp:str)->tuple:
    "fastai's fine_tune(1) and `lesson2 train` with defaults on `data`, each a fresh process; (rows, summary of ours)."
    fa_s, fa_mb, out = run([sys.executable, '-c', FASTAI, str(data)])
    fa_acc = float(re.search(r'accuracy ([\d.]+)', out)[1])
    ours_s, ours_mb, out = run([str(BIN/'lesson2'), 'train', str(data), '--out', f'{tmp}/{data.name}', '--json'],
                               env={'LESSON2_CACHE': f'{tmp}/cache-{data.name}'})
    m = json.loads(out)
    return [('fastai fine_tune(1), bs 32', fa_s, fa_mb, fa_acc),
            ('lesson2 train DATA --out M (defaults, cold cache)', ours_s, ours_mb, m['valid_accuracy'])], m

def main():
    for d in (BEARS, FULL):
        if not d.is_dir(): sys.exit(f'bench_train: {d} is absent (it exists only beside the development checkout)')
    with tempfile.TemporaryDirectory() as tmp:
        rows, m = fastai_and_ours(BEARS, tmp)
        warm_s, warm_mb, _ = run([str(BIN/'lesson2'), 'train', str(BEARS), '--out', f'{tmp}/m2', '--json'], env={'LESSON2_CACHE': f'{tmp}/cache-bears'})
        ft_s, ft_mb, out = run([str(BIN/'lesson2'), 'train', str(BEARS), '--out', f'{tmp}/m3', '--epochs', '1', '--json'], env={'LESSON2_CACHE': f'{tmp}/cache-bears'})
        ft = json.loads(out)
        rows += [('lesson2 train DATA --out M (defaults, warm cache)', warm_s, warm_mb, m['valid_accuracy']),
                 (f'lesson2 train DATA --out M --epochs 1 (bs {ft["bs"]}; kept: {ft["kept"]})', ft_s, ft_mb, ft['valid_accuracy'])]
        full_rows, fm = fastai_and_ours(FULL, tmp)
    for name, data, rs, info in (('bears', BEARS, rows, m), ('bears-full', FULL, full_rows, fm)):
        print(f'{name}: {info["train_items"]} training / {info["valid_items"]} validation pictures, 224 px, EfficientNet-Lite0; whole processes')
        print(f'{"":66} {"seconds":>8} {"peak MB":>8} {"valid acc":>10}')
        for label, secs, mb, acc in rs: print(f'{label:66} {secs:8.1f} {mb:8.0f} {acc:10.2%}')
        print(f'wall-time ratio, fastai fine_tune(1) / lesson2 train defaults (cold): {rs[0][1] / rs[1][1]:.1f}x (target: at least 5x, >= 97 %)\n')

if __name__ == '__main__': main()
