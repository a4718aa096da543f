// The demo page: pick who you are, type, and see the bot's replies as QQ shows them.
// Everything the bot or a visitor wrote is put on the page with textContent, never as HTML.
"use strict";

const state = {
  personas: [],
  me: null,          // the persona key
  chat: "group",     // "group" or "private"
  items: [],
  after: 0,
  generation: "",
  replyTo: null,     // {id, name, text}
  unread: { group: false, private: false },
  lastReceipt: null,
  maxText: 2000,
};

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(`api/${path}`, options);
  let data = {};
  try { data = await response.json(); } catch (_) { data = {}; }
  if (!response.ok) throw new Error(data.error || `出错了（${response.status}）`);
  return data;
}

function setStatus(text) { $("status").textContent = text || ""; }

function persona(key = state.me) { return state.personas.find((p) => p.key === key); }

// --- text with links and mentions -----------------------------------------------------------

const LINK = /(https?:\/\/[^\s<>"'，。；！？）】]+)/g;

function appendText(parent, text) {
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    if (match.index > last) parent.append(text.slice(last, match.index));
    const a = el("a", "", match[0]);
    a.href = match[0];
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    parent.append(a);
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

function renderParts(parent, parts) {
  for (const part of parts) {
    if (part.type === "text") appendText(parent, part.text);
    else if (part.type === "at") parent.append(el("span", "at", `@${part.name} `));
    else if (part.type === "quote") {
      parent.append(el("span", "quote", `${part.name ? part.name + "：" : ""}${part.text}`));
    } else if (part.type === "image") {
      const img = el("img");
      img.src = part.src;
      img.alt = "图片";
      parent.append(img);
    }
  }
}

function plainText(parts) {
  return parts.filter((p) => p.type === "text").map((p) => p.text).join("");
}

// --- messages --------------------------------------------------------------------------------

function visible(item) {
  if (item.chat !== state.chat) return false;
  if (item.chat === "private") return item.peer === persona().qq;
  return true;
}

function bubbleFor(item) {
  if (item.kind === "forward") {
    const card = el("button", "card forward-card");
    card.type = "button";
    card.append(el("h3", "", "群聊的聊天记录"));
    for (const node of item.nodes.slice(0, 4)) {
      card.append(el("div", "preview", `${node.name}：${plainText(node.parts).replace(/\n/g, " ")}`));
    }
    card.append(el("footer", "", `查看 ${item.nodes.length} 条转发消息`));
    card.addEventListener("click", () => openForward(item));
    return card;
  }
  if (item.kind === "file") {
    const a = el("a", "card file-card");
    a.href = item.file.url;
    a.download = item.file.name;
    a.append(el("span", "file-icon", "文件"));
    const info = el("span");
    info.append(el("div", "file-name", item.file.name));
    info.append(el("div", "file-size", `${(item.file.size / 1024).toFixed(1)} KB · 点击下载`));
    a.append(info);
    return a;
  }
  const bubble = el("div", "bubble");
  renderParts(bubble, item.parts);
  return bubble;
}

function renderItem(item) {
  if (item.kind === "notice") {
    const row = el("div", "notice");
    row.dataset.seq = item.seq;
    row.append(el("span", "", plainText(item.parts)));
    return row;
  }
  const mine = !item.bot && item.sender === persona().qq;
  const row = el("div", `msg${item.bot ? " bot" : ""}${mine ? " mine" : ""}`);
  row.dataset.seq = item.seq;
  row.append(el("div", "avatar", (item.name || "?").replace(/^.*-/, "").slice(0, 1)));
  const body = el("div", "body");
  const name = el("div", "name", item.name);
  if (item.bot) name.append(el("span", "tag", "机器人"));
  body.append(name, bubbleFor(item));
  const meta = el("div", "meta");
  meta.append(el("span", "", item.at));
  if (item.failed) meta.append(el("span", "failed", "发送失败"));
  if (item.id && item.kind === "message") {
    const reply = el("button", "", "回复");
    reply.type = "button";
    reply.addEventListener("click", () => startReply(item));
    meta.append(reply);
  }
  body.append(meta);
  row.append(body);
  return row;
}

function render() {
  const chat = $("chat");
  const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
  chat.replaceChildren(...state.items.filter(visible).map(renderItem));
  if (atBottom || state.forceScroll) chat.scrollTop = chat.scrollHeight;
  state.forceScroll = false;
  for (const tab of ["group", "private"]) {
    const button = $(`tab-${tab}`);
    button.setAttribute("aria-selected", String(state.chat === tab));
    const dot = button.querySelector(".dot");
    if (state.unread[tab] && state.chat !== tab && !dot) button.append(el("span", "dot"));
    if ((!state.unread[tab] || state.chat === tab) && dot) dot.remove();
  }
  const me = persona();
  $("joinbar").hidden = !(state.chat === "group" && me && me.key === "newcomer" && !me.joined);
}

function openForward(item) {
  const body = $("forward-body");
  body.replaceChildren(...item.nodes.map((node, index) => renderItem({
    seq: `${item.seq}-${index}`, chat: item.chat, sender: 0, name: node.name, bot: true,
    kind: "message", parts: node.parts, at: item.at, id: null,
  })));
  $("forward").hidden = false;
}

function startReply(item) {
  state.replyTo = item;
  $("replytext").textContent = `回复 ${item.name}：${plainText(item.parts).slice(0, 40)}`;
  $("replybar").hidden = false;
  $("text").focus();
}

function cancelReply() {
  state.replyTo = null;
  $("replybar").hidden = true;
}

// --- who am I -------------------------------------------------------------------------------

function renderPersonas() {
  $("personas").replaceChildren(...state.personas.map((p) => {
    const button = el("button", "", p.title);
    button.type = "button";
    button.dataset.persona = p.key;
    button.title = p.name;
    button.setAttribute("aria-pressed", String(p.key === state.me));
    button.addEventListener("click", () => choose(p.key));
    return button;
  }));
  const me = persona();
  $("tries").replaceChildren(...me.tries.map((text) => {
    const button = el("button", "", text.replace(/^私聊：/, "").replace("{blog}", "新浪博客链接").replace("{last}", "编号"));
    button.type = "button";
    button.addEventListener("click", () => tryIt(text));
    return button;
  }));
}

function choose(key) {
  state.me = key;
  localStorage.setItem("demo-persona", key);
  cancelReply();
  renderPersonas();
  render();
}

function freshBlogLink() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `https://blog.sina.com.cn/s/blog_${hex}.html`;
}

function tryIt(text) {
  let chat = state.chat;
  if (text.startsWith("私聊：")) {
    text = text.slice(3);
    chat = "private";
  } else if (["/后台", "/导出"].includes(text)) {
    chat = "private";
  }
  text = text.replace("{blog}", freshBlogLink()).replace("{last}", state.lastReceipt || "1");
  switchChat(chat);
  send(text);
}

function switchChat(chat) {
  state.chat = chat;
  state.unread[chat] = false;
  state.forceScroll = true;
  cancelReply();
  render();
}

// --- talking --------------------------------------------------------------------------------

async function send(text) {
  text = text.trim();
  if (!text) { setStatus("请先输入要发送的内容。"); return; }
  if (text.length > state.maxText) { setStatus(`消息太长了，请控制在 ${state.maxText} 字以内。`); return; }
  const body = { as: state.me, chat: state.chat, text };
  if (state.replyTo && state.replyTo.id) body.reply_to = state.replyTo.id;
  setStatus("");
  $("send").disabled = true;
  try {
    await api("say", body);
    $("text").value = "";
    cancelReply();
    state.forceScroll = true;
  } catch (error) {
    setStatus(error.message);
  } finally {
    $("send").disabled = false;
  }
}

function absorb(items) {
  for (const item of items) {
    if (state.items.some((known) => known.seq === item.seq)) continue;
    state.items.push(item);
    state.after = Math.max(state.after, item.seq);
    if (item.kind === "notice" && item.parts.length && plainText(item.parts).includes("加入了本群")) {
      const joined = state.personas.find((p) => plainText(item.parts).startsWith(p.name));
      if (joined) joined.joined = true;
    }
    if (item.bot) {
      const receipt = plainText(item.parts).match(/#(\d+) 已登记/);
      if (receipt) state.lastReceipt = receipt[1];
    }
    const me = persona();
    const forMe = item.chat === "group" || (me && item.peer === me.qq);
    if (forMe && item.chat !== state.chat) state.unread[item.chat] = true;
  }
  state.items.sort((a, b) => a.seq - b.seq);
}

async function poll() {
  for (;;) {
    try {
      const data = await fetch(`api/events?after=${state.after}&generation=${state.generation}`)
        .then((r) => r.json());
      if (data.generation !== state.generation) {
        state.generation = data.generation;
        state.items = [];
        state.after = 0;
        for (const p of state.personas) p.joined = p.key !== "newcomer";
      }
      absorb(data.items || []);
      render();
      document.body.dataset.ready = String(Boolean(data.ready));
    } catch (_) {
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }
}

async function refreshState() {
  const data = await api("state");
  state.maxText = data.max_text;
  $("deadline").textContent = data.deadline ? `截止：${data.deadline}` : "";
  $("dashboard").href = data.dashboard;
  $("tab-group").textContent = data.group;
  if (!state.personas.length) {
    state.personas = data.personas.map((p) => ({ ...p, joined: p.key !== "newcomer" }));
  }
  return data;
}

async function busy(button, work) {
  const buttons = [$("jump"), $("restart")];
  buttons.forEach((b) => { b.disabled = true; });
  const label = button.textContent;
  button.textContent = "机器人重启中…";
  try {
    await work();
    await refreshState();
  } catch (error) {
    setStatus(error.message);
  } finally {
    button.textContent = label;
    buttons.forEach((b) => { b.disabled = false; });
  }
}

async function main() {
  await refreshState();
  const saved = localStorage.getItem("demo-persona");
  state.me = state.personas.some((p) => p.key === saved) ? saved : "secretary";
  renderPersonas();
  render();

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send($("text").value);
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send($("text").value);
    }
  });
  $("mention").addEventListener("click", () => {
    const input = $("text");
    input.value = `@大赛助手 ${input.value}`;
    input.focus();
  });
  $("tab-group").addEventListener("click", () => switchChat("group"));
  $("tab-private").addEventListener("click", () => switchChat("private"));
  $("replycancel").addEventListener("click", cancelReply);
  $("forward-close").addEventListener("click", () => { $("forward").hidden = true; });
  $("forward").addEventListener("click", (event) => {
    if (event.target === $("forward")) $("forward").hidden = true;
  });
  $("join").addEventListener("click", async () => {
    try { await api("join", { as: state.me }); } catch (error) { setStatus(error.message); }
  });
  $("jump").addEventListener("click", () => busy($("jump"), () => api("jump", {})));
  $("restart").addEventListener("click", () => {
    if (!confirm("重新开始会清空演示里的全部消息和新提交的作品，确定吗？")) return;
    busy($("restart"), () => api("restart", {}));
  });
  poll();
}

main().catch((error) => setStatus(error.message));
