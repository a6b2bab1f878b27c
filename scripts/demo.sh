#!/usr/bin/env bash
# A throw-away desk in a temporary folder, and the seed's IT001 ticket walked through
# its whole life: report, acknowledge, classify, assign, accept, work, resolve,
# follow-up, close (which prints the problem-handling report).
set -euo pipefail
itdesk=${ITDESK:-itdesk}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
desk="$tmp/desk"
export ITDESK_DESK="$desk"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$itdesk" init "$desk" --timezone Asia/Shanghai --as zhang --now 2023-10-25T08:00
id=$("$itdesk" new --as zhang --now 2023-10-25T09:30 \
  --title "电脑无法连接公司WiFi" --requester "王小明" --employee-id E1024 \
  --department 研发部 --contact 13956785678 --channel chat \
  --description '提示"网络身份验证失败"' --blocks-work --scope "影响代码提交" \
  --devices "ThinkPad X1 Carbon" --expected-by 今日下班前)
printf '\n$ itdesk new ...   ->  %s\n' "$id"
step "$itdesk" ack "$id" --as zhang --now 2023-10-25T09:33
step "$itdesk" classify "$id" --priority 重要 --category 网络 --as zhang --now 2023-10-25T09:35
step "$itdesk" assign "$id" --auto --as zhang --now 2023-10-25T09:36
step "$itdesk" accept "$id" --as zhang --now 2023-10-25T09:40
step "$itdesk" log "$id" --via remote --as zhang --now 2023-10-25T09:55 "检查电脑无线网卡驱动"
step "$itdesk" log "$id" --via remote --as zhang --now 2023-10-25T10:10 "重置网络配置"
step "$itdesk" log "$id" --via onsite --as zhang --now 2023-10-25T10:40 "更新公司WiFi证书"
step "$itdesk" resolve "$id" --summary "更新公司WiFi证书后恢复连接" --verified --as zhang --now 2023-10-25T10:50
step "$itdesk" followup "$id" --speed 满意 --attitude 满意 --overall 满意 --comment "员工对处理效率认可" --as zhang --now 2023-10-25T10:55
step "$itdesk" close "$id" --as zhang --now 2023-10-25T11:00 --lang zh
step "$itdesk" list --all
step git -C "$desk" log --format='%h %an: %s' -- "tickets/$id.yaml"
step "$itdesk" validate
