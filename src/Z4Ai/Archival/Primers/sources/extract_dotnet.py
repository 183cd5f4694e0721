# Extracts English prose from .NET reference XML doc comments (MIT). Usage: extract_dotnet.py REFDIR LIMIT > out
import re, sys, glob, os, html
refdir, limit = sys.argv[1], int(sys.argv[2])
files = ["System.Net.Http.xml", "System.IO.Compression.xml", "System.Threading.xml", "System.Collections.xml",
         "System.Text.Json.xml", "System.Security.Cryptography.xml", "System.Net.Sockets.xml", "System.Memory.xml",
         "System.Linq.xml", "System.Runtime.xml", "System.Threading.Tasks.Dataflow.xml", "System.Formats.Tar.xml",
         "System.Diagnostics.Process.xml", "System.IO.Pipes.xml", "System.Console.xml"]
def clean(t):
    t = re.sub(r'<see cref="[A-Z]:([^"]+)"\s*/>', lambda m: m.group(1).split('.')[-1].split('(')[0].split('`')[0], t)
    t = re.sub(r'<see langword="([^"]+)"\s*/>', r'\1', t)
    t = re.sub(r'<paramref name="([^"]+)"\s*/>', r'\1', t)
    t = re.sub(r'<typeparamref name="([^"]+)"\s*/>', r'\1', t)
    t = re.sub(r'<[^>]+>', ' ', t)
    t = html.unescape(t)
    t = re.sub(r'\s+', ' ', t).strip()
    return t
seen = set(); out = []; total = 0
per_file = limit // len(files)
for f in files:
    p = os.path.join(refdir, f)
    if not os.path.exists(p): continue
    s = open(p, encoding='utf-8').read()
    got = 0
    for m in re.finditer(r'<(summary|remarks|returns|exception[^>]*)>(.*?)</(summary|remarks|returns|exception)>', s, re.S):
        t = clean(m.group(2))
        if len(t) < 70 or t in seen: continue
        key = ' '.join(t.split()[:5])
        if key in seen: continue
        seen.add(t); seen.add(key)
        out.append(t); got += len(t) + 1
        if got >= per_file: break
    total += got
# wrap to ~100 columns in paragraphs of 4 sentences
text = []
para = []
for i, t in enumerate(out):
    para.append(t)
    if len(para) == 4:
        text.append(' '.join(para)); para = []
if para: text.append(' '.join(para))
import textwrap
sys.stdout.write('\n\n'.join(textwrap.fill(p, 100) for p in text) + '\n')
