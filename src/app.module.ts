import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ApiKeyGuard } from './auth/api-key.guard';
import { AuthModule } from './auth/auth.module';
import { BatchesModule } from './batches/batches.module';
import { HttpErrorFilter } from './common/http-error.filter';
import { JsonBodyGuard } from './common/json-body';
import { RequestValidationPipe } from './common/request-validation.pipe';
import { Tracing } from './common/tracing';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { ApprovalsModule } from './approvals/approvals.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { SharedRedisModule } from './redis/shared-redis';
import { TasksModule } from './tasks/tasks.module';

/** The API process. Global guards, pipe and filter are providers, so tests run this pipeline. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        SharedRedisModule,
        AuthModule,
        RateLimitModule,
        TasksModule,
        BatchesModule,
        EventsModule,
        ApprovalsModule,
        HealthModule,
      ],
      providers: [
        // In this order: a key's requests are counted once it is known whose key it is, and a
        // body is read only for a request that is let in.
        { provide: APP_GUARD, useExisting: ApiKeyGuard },
        { provide: APP_GUARD, useExisting: RateLimitGuard },
        { provide: APP_GUARD, useClass: JsonBodyGuard },
        { provide: APP_PIPE, useClass: RequestValidationPipe },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        {
          provide: Tracing,
          inject: [AppConfig],
          useFactory: (config: AppConfig) => Tracing.fromConfig(config),
        },
      ],
    };
  }
}
