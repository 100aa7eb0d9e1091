import { Module } from '@nestjs/common';
import { FEED_OPTIONS, FeedOptions, TaskEventFeeds } from '../events/task-event-feeds';
import { TaskEventLog } from '../events/task-event-log';
import { TaskNotices } from '../events/task-notices';
import { TaskChanges } from '../tasks/task-changes';
import { TemporalModule } from '../temporal/temporal.module';
import { WebhookDeliveries } from './webhook-deliveries';

/**
 * The worker's side of webhooks: the delivery activity, and the feeds it follows tasks with
 * (without live step text, which webhooks do not carry), woken by the change notices workers
 * publish when the deployment shares Redis.
 */
@Module({
  imports: [TemporalModule],
  providers: [
    TaskEventLog,
    TaskChanges,
    TaskNotices,
    { provide: FEED_OPTIONS, useValue: { live: false } satisfies FeedOptions },
    TaskEventFeeds,
    WebhookDeliveries,
  ],
  exports: [WebhookDeliveries],
})
export class WebhookDeliveryModule {}
