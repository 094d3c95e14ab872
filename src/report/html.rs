//! The `verify --html` page: one self-contained file (inline CSS, inline script, inline SVG; no
//! network, no fonts) with the program's rows and its graph side by side. Every mark has a
//! symbol or a word besides its colour, so the page reads in greyscale and on paper.

use super::graph::{esc, Graph};
use super::model::{Model, Row, StateView};
use std::fmt::Write;

const STYLE: &str = r#"
body{font-family:sans-serif;margin:0;color:#111;background:#fff}
header{padding:10px 16px;border-bottom:2px solid #444}
h1{font-size:18px;margin:0 0 6px}
.verdict{font-weight:bold}
.verdict.rejected{color:#a00}.verdict.accepted{color:#060}
.why{border:2px solid #a00;padding:6px 10px;margin:6px 0;background:#fff4f4}
.why code,.mono,td,text{font-family:monospace}
main{display:flex;gap:12px;align-items:flex-start;padding:8px}
#rows-pane{flex:1 1 auto;overflow:auto;max-height:88vh}
#graph-pane{flex:0 0 auto;min-width:380px;max-width:45%;overflow:auto;max-height:88vh;border-left:1px solid #999}
table{border-collapse:collapse;font-size:12px;width:100%}
th{position:sticky;top:0;background:#eee;text-align:left}
td{border-bottom:1px solid #ddd;padding:2px 6px;vertical-align:top}
tr.row{cursor:pointer}
tr.unexplored td{color:#777}
tr.path td.mark{background:#ffd9a0}
tr.error{background:#ffd0d0;outline:2px solid #a00}
tr.sel{outline:3px solid #00c}
td.mark,td.insn{font-weight:bold;white-space:nowrap}
td.insn{font-weight:normal}
td.state{min-width:22em}
ul.st{margin:0;padding-left:14px}
.log{color:#444;white-space:pre-wrap;font-size:11px}
.block rect{fill:#f4f8ff;stroke:#334;stroke-width:1}
.block.unexplored rect{fill:#eee;stroke-dasharray:4 3}
.block.pruned rect{stroke-width:3;stroke-dasharray:8 2}
.block.path rect{fill:#fff0d8;stroke:#b60;stroke-width:2}
.block.error rect{fill:#ffd0d0;stroke:#a00;stroke-width:3}
text{font-size:11px}
.bhead{font-weight:bold}
.bl{cursor:pointer}
.bl.sel{fill:#00c;font-weight:bold;text-decoration:underline}
.edge{fill:none;stroke:#334;stroke-width:1.3}
.edge.jump{stroke:#05a}
.edge.call{stroke-dasharray:2 3}
.edge.unexplored{stroke:#aaa;stroke-dasharray:5 4}
.edge.path{stroke:#b60;stroke-width:3}
.elabel{font-size:10px;fill:#555}
.legend{font-size:12px}
kbd{border:1px solid #888;border-radius:3px;padding:0 3px}
@media print{main{display:block}#rows-pane,#graph-pane{max-height:none;overflow:visible;border:0}
 th{position:static}.keys{display:none}tr{break-inside:avoid}}
"#;

const SCRIPT: &str = r#"
(function(){
  var rows=[].slice.call(document.querySelectorAll('tr.row'));
  var cur=-1;
  function select(i,scroll){
    if(i<0||i>=rows.length)return;
    document.querySelectorAll('.sel').forEach(function(e){e.classList.remove('sel');});
    cur=i;var r=rows[i];r.classList.add('sel');
    var slot=r.getAttribute('data-slot');
    document.querySelectorAll('.bl[data-slot="'+slot+'"]').forEach(function(t){
      t.classList.add('sel');if(scroll&&t.scrollIntoView)t.scrollIntoView({block:'nearest',inline:'nearest'});});
    if(scroll&&r.scrollIntoView)r.scrollIntoView({block:'nearest'});
    document.getElementById('status').textContent='selected insn '+slot;
  }
  function bySlot(slot){for(var i=0;i<rows.length;i++)if(rows[i].getAttribute('data-slot')==slot)return i;return -1;}
  rows.forEach(function(r,i){r.addEventListener('click',function(){select(i,true);});});
  document.querySelectorAll('.bl').forEach(function(t){
    t.addEventListener('click',function(){select(bySlot(t.getAttribute('data-slot')),true);});});
  function jump(cls,dir){
    for(var i=cur+dir;i>=0&&i<rows.length;i+=dir)if(rows[i].classList.contains(cls)){select(i,true);return;}
  }
  document.addEventListener('keydown',function(ev){
    var k=ev.key;
    if(k==='j'||k==='ArrowDown'){select(Math.min(cur+1,rows.length-1),true);}
    else if(k==='k'||k==='ArrowUp'){select(Math.max(cur-1,0),true);}
    else if(k==='n'){jump('path',1);}
    else if(k==='p'){jump('path',-1);}
    else if(k==='e'){var e=document.querySelector('tr.error');if(e)select(rows.indexOf(e),true);}
    else if(k==='Home'){select(0,true);}
    else if(k==='End'){select(rows.length-1,true);}
    else return;
    ev.preventDefault();
  });
  var e=document.querySelector('tr.error');
  select(e?rows.indexOf(e):0,false);
  var ok=document.createElement('div');ok.id='script-ok';ok.hidden=true;document.body.appendChild(ok);
})();
"#;

/// The page for `model`, titled with `name` (the program's file name).
pub fn render(model: &Model, name: &str) -> String {
    let v = &model.verification;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ebpf-lab verify: {}</title><style>{STYLE}</style></head><body>",
        esc(name)
    );
    s.push_str("<header>");
    let _ =
        write!(s, "<h1>ebpf-lab verify <span class=\"mono\">{}</span> ({})</h1>", esc(name), model.program.prog_type);
    match &v.error {
        Some(e) => {
            let _ = write!(s, "<div class=\"verdict rejected\" id=\"verdict\">✗ REJECTED</div><div class=\"why\">");
            let at = e.insn.map_or(String::new(), |i| format!("insn {i}: "));
            let _ = write!(s, "<div><b>{}</b><code>{}</code></div>", esc(&at), esc(&e.message));
            if let Some(h) = &e.hint {
                let _ = write!(s, "<div>hint: {}</div>", esc(h));
            }
            for r in &e.regs {
                let _ = write!(s, "<div>r{}: {} <code>({})</code></div>", r.reg, esc(&r.words), esc(&r.kernel));
            }
            if !model.path.is_empty() {
                let steps: Vec<String> = model.path.iter().map(|p| p.to_string()).collect();
                let _ = write!(s, "<div>path to the error: <span class=\"mono\">{}</span></div>", steps.join(" → "));
            }
            s.push_str("</div>");
        }
        None => {
            let _ = write!(s, "<div class=\"verdict accepted\" id=\"verdict\">✓ ACCEPTED</div>");
            let revisited: Vec<String> =
                model.rows.iter().filter(|r| r.visits > 1).map(|r| format!("{} (×{})", r.slot, r.visits)).collect();
            let pruned: Vec<String> = model.rows.iter().filter(|r| r.pruned).map(|r| r.slot.to_string()).collect();
            if !revisited.is_empty() {
                let _ = write!(
                    s,
                    "<div>checked more than once (loop iterations unrolled, or several paths): insns {}</div>",
                    revisited.join(", ")
                );
            }
            if !pruned.is_empty() {
                let _ = write!(s, "<div>paths pruned (state already verified) at insns {}</div>", pruned.join(", "));
            }
            for w in &v.warnings {
                let _ = write!(s, "<div>warning at insn {}: {}</div>", w.insn, esc(&w.message));
            }
        }
    }
    let st = &v.stats;
    let _ = write!(
        s,
        "<div class=\"mono\" id=\"stats\">processed {} insns (limit {}) max_states_per_insn {} total_states {} peak_states {}</div>",
        st.processed,
        crate::verifier::COMPLEXITY_LIMIT_INSNS,
        st.max_states_per_insn,
        st.total_states,
        st.peak_states
    );
    if let Some(k) = model.kernel_processed {
        let _ = write!(s, "<div class=\"mono\" id=\"kernel-stats\">the kernel: processed {k} insns</div>");
    }
    s.push_str(
        "<div class=\"legend\">Marks: ✗ error · → on the path to the error · ⊘ pruned · ↻ checked more than once · \
         – never explored. <span class=\"keys\">Keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous instruction, \
         <kbd>n</kbd>/<kbd>p</kbd> along the error path, <kbd>e</kbd> the error; click a row or a graph line to \
         select it in both views.</span> <span id=\"status\" aria-live=\"polite\"></span></div>",
    );
    s.push_str("</header><main><div id=\"rows-pane\"><table id=\"rows\"><thead><tr><th>mark</th><th>#</th><th>instruction</th><th>source</th><th>verifier state on entry</th><th>log</th></tr></thead><tbody>");
    for r in &model.rows {
        row(&mut s, r);
    }
    s.push_str("</tbody></table></div><div id=\"graph-pane\">");
    s.push_str(&Graph::build(model).svg(model));
    let _ = writeln!(s, "</div></main><script>{SCRIPT}</script></body></html>");
    s
}

/// The marks of a row, as symbols and words (for readers without colour).
fn marks(r: &Row) -> String {
    let mut m = Vec::new();
    if r.error {
        m.push("✗ error");
    } else if r.on_path {
        m.push("→");
    }
    if r.pruned {
        m.push("⊘ pruned");
    }
    if r.visits > 1 {
        m.push("↻");
    }
    if r.visits == 0 && r.state_count == 0 {
        m.push("–");
    }
    m.join(" ")
}

fn row(s: &mut String, r: &Row) {
    let mut class = String::from("row");
    for (on, c) in [
        (r.error, " error"),
        (r.on_path, " path"),
        (r.pruned, " pruned"),
        (r.visits == 0 && r.state_count == 0, " unexplored"),
    ] {
        if on {
            class.push_str(c);
        }
    }
    let _ = write!(
        s,
        "<tr class=\"{class}\" id=\"insn-{}\" data-slot=\"{}\" tabindex=\"-1\"><td class=\"mark\">{}</td><td>{}</td><td class=\"insn\">{}</td><td>{}</td><td class=\"state\">",
        r.slot,
        r.slot,
        marks(r),
        r.slot,
        esc(&r.text),
        r.source.as_ref().map_or(String::new(), |(l, t)| format!("{l}: {}", esc(t))),
    );
    for (k, st) in r.states.iter().enumerate() {
        if r.states.len() > 1 {
            let _ = write!(s, "<div><i>state {}</i></div>", k + 1);
        }
        state(s, st);
    }
    if r.state_count > r.states.len() {
        let _ = write!(s, "<div><i>… {} more states</i></div>", r.state_count - r.states.len());
    }
    if r.state_count == 0 {
        s.push_str("<i>never reached</i>");
    }
    let more = if r.log_more > 0 { format!("\n… {} more lines", r.log_more) } else { String::new() };
    let _ = write!(s, "</td><td class=\"log\">{}{more}</td></tr>", esc(&r.log.join("\n")));
}

fn state(s: &mut String, st: &StateView) {
    s.push_str("<ul class=\"st\">");
    for r in &st.regs {
        let _ = write!(
            s,
            "<li class=\"reg\">r{}: {} <span class=\"mono\">[{}]</span></li>",
            r.reg,
            esc(&r.words),
            esc(&r.kernel)
        );
    }
    if !st.stack.is_empty() {
        let _ = write!(s, "<li>stack: <span class=\"mono\">{}</span></li>", esc(&st.stack.join(" ")));
    }
    if let Some(p) = st.packet_range {
        let _ = write!(s, "<li>packet: {p} bytes proven readable</li>");
    }
    if st.frames > 1 {
        let _ = write!(s, "<li>call depth {}</li>", st.frames);
    }
    s.push_str("</ul>");
}
