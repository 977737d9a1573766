"""Packaging for lesson2_lib, driven by settings.ini (nbdev 2).

Unlike the nbdev template this does not import `pkg_resources`, which current
setuptools no longer provides."""
import shlex
from configparser import ConfigParser
from pathlib import Path
from setuptools import find_packages, setup

here = Path(__file__).parent
cfg = ConfigParser(delimiters=['='])
cfg.read(here/'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

def reqs(key):
    "Requirement strings from a space-separated settings.ini entry."
    return shlex.split(cfg.get(key, ''))

licenses = {'apache2': ('Apache-2.0', 'OSI Approved :: Apache Software License')}
statuses = ['Planning', 'Pre-Alpha', 'Alpha', 'Beta', 'Production/Stable', 'Mature', 'Inactive']
lic = licenses[cfg['license']]
readme = here/'README.md'

setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=readme.read_text(encoding='utf-8') if readme.exists() else '',
    long_description_content_type='text/markdown',
    author=cfg['author'],
    author_email=cfg['author_email'],
    url=cfg['git_url'],
    license=lic[0],
    classifiers=[
        f'Development Status :: {cfg["status"]} - {statuses[int(cfg["status"])]}',
        f'Intended Audience :: {cfg["audience"]}',
        f'License :: {lic[1]}',
        f'Natural Language :: {cfg["language"]}',
        'Programming Language :: Python :: 3',
    ],
    keywords=cfg['keywords'],
    packages=find_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']),
    include_package_data=True,
    python_requires=f'>={cfg["min_python"]}',
    install_requires=reqs('requirements'),
    extras_require={'dev': reqs('dev_requirements'), 'gradio': reqs('gradio_requirements'), 'browser': reqs('browser_requirements'), 'scale': reqs('scale_requirements')},
    entry_points={
        'console_scripts': reqs('console_scripts'),
        'nbdev': [f'{cfg["lib_path"]}={cfg["lib_path"]}._modidx:d'],
    },
    zip_safe=False,
)
