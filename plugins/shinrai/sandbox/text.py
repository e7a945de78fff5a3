"""Bilingual (Japanese / English) vocabulary for the synthetic organisation."""

from __future__ import annotations

FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    ("Sato", "佐藤"), ("Suzuki", "鈴木"), ("Takahashi", "高橋"), ("Tanaka", "田中"),
    ("Watanabe", "渡辺"), ("Ito", "伊藤"), ("Yamamoto", "山本"), ("Nakamura", "中村"),
    ("Kobayashi", "小林"), ("Kato", "加藤"), ("Yoshida", "吉田"), ("Yamada", "山田"),
    ("Sasaki", "佐々木"), ("Yamaguchi", "山口"), ("Matsumoto", "松本"), ("Inoue", "井上"),
    ("Kimura", "木村"), ("Hayashi", "林"), ("Shimizu", "清水"), ("Mori", "森"),
)
GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("Haruto", "陽翔"), ("Yui", "結衣"), ("Sota", "蒼太"), ("Aoi", "葵"), ("Ren", "蓮"),
    ("Hina", "陽菜"), ("Yuto", "悠斗"), ("Mei", "芽依"), ("Riku", "陸"), ("Sakura", "さくら"),
    ("Kenta", "健太"), ("Yuki", "由紀"), ("Daiki", "大輝"), ("Misaki", "美咲"), ("Takumi", "拓海"),
    ("Nana", "奈々"), ("Shota", "翔太"), ("Ayaka", "彩花"),
)
WESTERN_NAMES: tuple[tuple[str, str], ...] = (
    ("Alex", "Morgan"), ("Priya", "Shah"), ("Daniel", "Kim"), ("Emma", "Clark"), ("Lucas", "Martin"),
    ("Olivia", "Chen"), ("Noah", "Garcia"), ("Mia", "Nguyen"), ("Ethan", "Lopez"), ("Sofia", "Rossi"),
)

SYMPTOMS: dict[str, tuple[tuple[str, str], ...]] = {
    "payroll": (
        ("給与明細PDFの生成が失敗", "Payslip PDF generation failing"),
        ("給与計算バッチが遅延", "Payroll batch delayed"),
        ("源泉徴収額の計算誤り", "Incorrect withholding tax calculation"),
        ("振込データ出力でタイムアウト", "Timeouts exporting bank transfer data"),
    ),
    "attendance": (
        ("打刻APIでエラー率上昇", "Elevated error rate on clock-in API"),
        ("勤怠締め処理が完了しない", "Attendance closing job not completing"),
        ("シフト画面の表示が遅い", "Shift screen loading slowly"),
        ("有給残日数の表示不整合", "Paid leave balance inconsistent"),
    ),
    "expense": (
        ("領収書OCRが応答しない", "Receipt OCR not responding"),
        ("経費申請の承認通知が届かない", "Approval notifications not delivered"),
        ("交通費の自動計算が失敗", "Commute cost calculation failing"),
        ("CSVエクスポートで500エラー", "500 errors on CSV export"),
    ),
    "invoice": (
        ("請求書の送付メールが遅延", "Invoice emails delayed"),
        ("請求書PDFの金額表示誤り", "Wrong amounts on invoice PDF"),
        ("入金消込が失敗", "Payment reconciliation failing"),
        ("インボイス番号の検証エラー", "Invoice registration number validation errors"),
    ),
    "hr": (
        ("従業員情報の更新が保存されない", "Employee record updates not saved"),
        ("入社手続き画面でエラー", "Errors on onboarding screen"),
        ("年末調整フォームが開けない", "Year-end adjustment form not opening"),
        ("SSOログインの失敗増加", "Increase in SSO login failures"),
    ),
    "accounting": (
        ("仕訳の自動連携が停止", "Automatic journal sync stopped"),
        ("試算表の集計が遅い", "Trial balance aggregation slow"),
        ("銀行明細の取込エラー", "Bank statement import errors"),
        ("決算レポートの数値不一致", "Mismatched figures in closing report"),
    ),
}

IMPACTS: tuple[tuple[str, str], ...] = (
    ("一部のお客様で画面操作ができない状態でした。", "Some customers could not use the screen."),
    ("全テナントで処理が遅延しました。", "Processing was delayed for all tenants."),
    ("特定の大口顧客の業務が停止しました。", "A large customer's business operation was blocked."),
    ("回避策はありましたが手間がかかる状態でした。", "A workaround existed but was cumbersome."),
)

ACTIONS: tuple[tuple[str, str], ...] = (
    ("監視アラートの閾値を見直す", "Review alert thresholds"),
    ("リリース前のE2Eテストを追加", "Add pre-release E2E tests"),
    ("ロールバック手順をRunbook化", "Write a rollback runbook"),
    ("設定変更のレビューを必須化", "Require review for configuration changes"),
    ("タイムアウト値を調整", "Tune timeout values"),
    ("容量計画を更新", "Update the capacity plan"),
    ("依存サービス障害時のフォールバックを実装", "Implement a fallback for dependency outages"),
    ("データ移行スクリプトの検証手順を追加", "Add validation for data migration scripts"),
    ("ダッシュボードにエラー率パネルを追加", "Add an error-rate panel to the dashboard"),
    ("オンコール手順書を更新", "Update the on-call playbook"),
)

RISKS: tuple[tuple[str, str], ...] = (
    ("{sub}のメモリ使用量が漸増", "Memory usage creeping up in {sub}"),
    ("{sub}の夜間バッチ処理時間が伸びている", "Nightly batch duration growing in {sub}"),
    ("{sub}のDB接続数が上限に近づいている", "DB connections approaching the limit in {sub}"),
    ("{sub}で外部API呼び出しのタイムアウトが増加", "More timeouts calling external APIs from {sub}"),
    ("{sub}の証明書期限管理が手動", "Certificate expiry for {sub} tracked manually"),
    ("{sub}のディスク使用率が増加傾向", "Disk usage trending up on {sub}"),
    ("{sub}のキュー滞留が断続的に発生", "Intermittent queue backlog in {sub}"),
    ("{sub}のキャッシュが単一AZ構成", "{sub} cache runs in a single AZ"),
)
SUBSYSTEMS: tuple[str, ...] = ("api-gateway", "batch-worker", "pdf-renderer", "notifier", "importer", "auth")

CHATTER: tuple[tuple[str, str], ...] = (
    ("ログを確認しています", "Checking the logs"),
    ("Datadogでエラー率が上がっています", "Error rate is up in Datadog"),
    ("直近のリリース差分を見ています", "Looking at the diff of the latest release"),
    ("DBのスロークエリが増えています", "Slow queries are increasing on the DB"),
    ("CSから問い合わせが3件来ています", "Support has received 3 inquiries"),
    ("ロールバックの準備をします", "Preparing a rollback"),
    ("影響範囲を調査中です", "Investigating the blast radius"),
    ("再現しました", "Reproduced it"),
    ("一時的にジョブを止めます", "Pausing the job temporarily"),
    ("ハドルに入ります", "Joining the huddle"),
    ("お客様向けの告知文を用意します", "Drafting the customer notice"),
    ("メトリクスが戻ってきました", "Metrics are recovering"),
)

REPLIES: tuple[tuple[str, str], ...] = (
    ("了解です", "Got it"),
    ("こちらでも確認しました", "Confirmed on my side"),
    ("ダッシュボードのリンク貼ります", "Posting the dashboard link"),
    ("ありがとうございます！", "Thanks!"),
    ("念のため監視を続けます", "Will keep monitoring just in case"),
)

UPDATES: tuple[tuple[str, str], ...] = (
    ("原因を調査中です。次回更新は30分後です。", "Investigating the cause. Next update in 30 minutes."),
    ("原因を特定しました。対応方針を検討中です。", "Cause identified. Deciding on the fix."),
    ("暫定対応を実施しました。影響は収まりつつあります。", "Workaround applied. Impact is subsiding."),
    ("恒久対応のリリース準備中です。", "Preparing a release with the permanent fix."),
)

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "investigating": ("調査中", "Investigating"),
    "mitigated": ("暫定復旧", "Mitigated"),
    "recovered": ("復旧済み", "Recovered"),
}


def bilingual(pair: tuple[str, str], style: int) -> str:
    """style 0: 'ja / en', 1: ja only, 2: en only."""
    ja, en = pair
    if style == 1:
        return ja
    if style == 2:
        return en
    return f"{ja} / {en}"

PRODUCT_CHATTER: tuple[tuple[str, str], ...] = (
    ("今週のリリース内容を共有します", "Sharing this week's release notes"),
    ("お客様からの問い合わせを確認中です", "Looking into a customer inquiry"),
    ("明日メンテナンスを予定しています", "Maintenance is planned for tomorrow"),
    ("ダッシュボードを確認しました。異常なしです", "Checked the dashboard, all normal"),
    ("再発防止策の進捗を更新しました", "Updated the progress of prevention actions"),
    ("負荷試験の結果を共有します", "Sharing load test results"),
)

TEAM_CHATTER: tuple[tuple[str, str], ...] = (
    ("月次のポストモーテム共有会を開催します", "Monthly postmortem review session today"),
    ("システムリスクレコードを棚卸ししました", "Pruned the System Risk Records"),
    ("期限切れの再発防止策をリマインドします", "Reminding owners of overdue prevention actions"),
    ("SLOの月次レポートを公開しました", "Published the monthly SLO report"),
    ("オンコール手順を更新しました", "Updated the on-call procedure"),
)
