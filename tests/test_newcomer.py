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
    # Since the split goes by content (ContentSplitter), the demo's new head at 72 px scores 94.5 to 94.8 % on the cleaned
    # table; the 4-epoch fine-tune on top gave 97.52 % (rate 5e-3, the demo's), 97.25 % (2e-3) and 95.59 % (1e-3) here, one run
    # each, 2 threads. Before that split it ranged 94.4 to 98.1 % over eight runs with the thread count (CPU sums differ and 92
    # steps at these rates amplify them). The demo keeps the better of head and fine-tune, so the bar is the head's score with a
    # margin: 93 %. The measured >= 97 % is reported, not asserted: one thread more or less moves it by points.
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
