import { Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
} from '@temporalio/client';
import { AppConfig } from '../config/app-config';
import { ChannelGuard } from './channel-guard';
import { temporalConnectionOptions } from './connection-options';
import { SearchAttributes } from './search-attributes';
import { TaskVisibility } from './task-visibility';
import { TaskWorkflowGateway } from './task-workflow.gateway';
import { TemporalReadiness } from './temporal-readiness';
import { TraceClientInterceptor } from './trace-interceptor';

/** Closes the client's connection when the application shuts down. */
@Injectable()
class TemporalClientCloser implements OnApplicationShutdown {
  constructor(
    private readonly client: Client,
    private readonly guard: ChannelGuard,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    this.guard.close();
    await this.client.connection.close();
  }
}

@Module({
  providers: [
    ChannelGuard,
    {
      provide: Client,
      inject: [AppConfig, ChannelGuard],
      // Lazy: the API starts and answers /readiness with 503 while Temporal is unreachable,
      // and gRPC reconnects by itself once it is back.
      useFactory: (config: AppConfig, guard: ChannelGuard) =>
        new Client({
          connection: Connection.lazy({
            ...temporalConnectionOptions(config),
            // Ride out a blip, but answer 503 within about a second when Temporal is down
            // (the default retries for about 10 s).
            interceptors: [
              makeGrpcRetryInterceptor(
                defaultGrpcRetryOptions({ maxAttempts: 4, initialIntervalMs: () => 100 }),
              ),
              // Inside the retries: a retry due after shutdown closed the connection ends its
              // call instead of throwing.
              guard.interceptor,
            ],
          }),
          namespace: config.temporal.namespace,
          interceptors: { workflow: [new TraceClientInterceptor()] },
        }),
    },
    TemporalClientCloser,
    SearchAttributes,
    TaskWorkflowGateway,
    TemporalReadiness,
    TaskVisibility,
  ],
  exports: [TaskWorkflowGateway, TemporalReadiness, TaskVisibility],
})
export class TemporalModule {}
